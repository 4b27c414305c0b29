// swift-tools-version:6.1
import Foundation
import PackageDescription

let package = Package(
    name: "nodeaudit",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "nodeaudit", targets: ["NodeAuditCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        // libaudit from Debian's libaudit-dev: message, syscall, machine and errno tables,
        // and (later) rule encoding and the netlink client.
        .systemLibrary(
            name: "CAudit",
            pkgConfig: "audit",
            providers: [.apt(["libaudit-dev"])]
        ),
        // OpenSSL for TLS to collectors (Debian's libssl-dev), linked dynamically: the
        // distribution's libssl3 then brings its security updates to every node.
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
        // The host-I/O layer: errno text, clocks, whole-file reads and atomic writes,
        // directory listings, worker threads. Every other target's system calls go here.
        .target(name: "HostIO", dependencies: ["CLinux"]),
        // Linux calls Swift's Glibc module lacks (epoll, accept4).
        .systemLibrary(name: "CLinux"),
        // zlib (Debian's zlib1g-dev), for gzip-compressed rotated audit logs.
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // Pure core: records, values, interpretation. No I/O.
        .target(name: "AuditRecords", dependencies: ["CAudit"]),
        // Pure core: the auditctl rule language, encoded through libaudit. No I/O.
        .target(name: "AuditRules", dependencies: ["CAudit"]),
        // Pure core: records -> correlated, interpreted events. No I/O.
        .target(name: "AuditEvents", dependencies: ["AuditRecords", "HostIO"]),
        // The kernel's audit control channel (netlink through libaudit): status, settings, rules.
        .target(name: "AuditKernel", dependencies: ["CAudit", "AuditRecords", "AuditRules", "HostIO"]),
        // Pure core: cgroup paths and Kubernetes file names -> workloads; the process table. No I/O.
        .target(name: "Attribution", dependencies: ["AuditEvents"]),
        // What the kernel does not say, from the host: user names, processes, containers, pods.
        .target(name: "Enrichment", dependencies: ["AuditEvents", "Attribution", "HostIO"]),
        // The settings table and the configuration file (YAML), environment and flag layers.
        .target(name: "Configuration", dependencies: ["AuditEvents", "Output", "YAMLNodes"]),
        // YAML documents as nodes with file positions, bounded against hostile files.
        .target(name: "YAMLNodes", dependencies: ["CLibYAML"]),
        // libyaml (Debian's libyaml-dev), for the configuration file and Sigma rules.
        .systemLibrary(name: "CLibYAML", pkgConfig: "yaml-0.1", providers: [.apt(["libyaml-dev"])]),
        // Pure core: Sigma detection rules, loaded, compiled and matched. No I/O but reading rule files.
        .target(name: "Sigma", dependencies: ["AuditEvents", "AuditRecords", "YAMLNodes", "HostIO"]),
        // Encoders and sinks.
        .target(name: "Output", dependencies: ["AuditEvents", "COpenSSL", "HostIO"],
                linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // The pipeline after correlation, shared by `run` and `parse`: options, the
        // renderer (interpret, enrich, filter, encode), counters, nodeaudit's own messages.
        .target(name: "Pipeline", dependencies: ["AuditRecords", "AuditEvents", "Attribution", "Enrichment", "Output", "Configuration", "HostIO", "Sigma",
                                                 .product(name: "Logging", package: "swift-log")]),
        // The Kubernetes API server's audit events: decoded, written as k8s_api events, and
        // joined to the node's exec sessions by their key. Pure but for the join's lock.
        .target(name: "KubernetesAudit", dependencies: ["AuditEvents", "AuditRecords", "Enrichment", "Output", "HostIO"]),
        // The API audit stream's live sources for `run`: the API server's log file, followed
        // through rotation, and the webhook backend (HTTPS, client certificates).
        .target(name: "KubernetesAuditInput", dependencies: ["KubernetesAudit", "Pipeline", "Output", "HostIO", "CLinux", "COpenSSL"],
                linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        // nodeaudit's own events (drift, restart gap, rules reloaded), written as JSON lines.
        .target(name: "OwnEvents", dependencies: ["Output"]),
        // /healthz and /metrics over HTTP, bounded against idle and slow clients.
        .target(name: "Health", dependencies: ["HostIO", "CLinux"]),
        // The one engine that makes the kernel hold the rule files, and where the files are;
        // it carries Rules/ built in (the plugin below), the default where none are installed.
        .target(name: "RuleSync", dependencies: ["AuditKernel", "AuditRules", "HostIO", "Pipeline"], plugins: ["EmbedDefaultRules"]),
        // Writes Rules/*.rules as a Swift source at build time, for the plugin.
        .executableTarget(name: "RuleEmbedder"),
        .plugin(name: "EmbedDefaultRules", capability: .buildTool(), dependencies: ["RuleEmbedder"]),
        // `nodeaudit parse`: log files (plain or gzip) and stdin through the pipeline.
        .target(name: "OfflineParse", dependencies: ["Pipeline", "AuditRecords", "AuditEvents", "Output", "Configuration", "HostIO", "CZlib", "KubernetesAudit", "Enrichment"]),
        // `nodeaudit run`: the kernel session, stream continuity, drift repair, reloads, the read loop.
        .target(name: "Collector", dependencies: ["Pipeline", "OwnEvents", "Health", "RuleSync", "AuditRecords", "AuditEvents", "AuditRules",
                                                  "AuditKernel", "Enrichment", "Output", "Configuration", "HostIO", "Sigma",
                                                  "KubernetesAudit", "KubernetesAuditInput"]),
        // The executable `nodeaudit`: the command line, the rules commands' reports and the
        // exit statuses. (Its target is not named `nodeaudit`, the product's name.)
        .executableTarget(
            name: "NodeAuditCLI",
            dependencies: [
                "Collector",
                "OfflineParse",
                "KubernetesAudit",
                "RuleSync",
                "Sigma",
                "Pipeline",
                "Configuration",
                "AuditKernel",
                "AuditRules",
                "HostIO",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Fixture and corpus access and reference-tool runners shared by the tests.
        .target(name: "TestSupport", dependencies: ["AuditRecords", "AuditRules", "AuditKernel"], path: "Tests/TestSupport"),
        .testTarget(name: "AuditKernelTests", dependencies: ["AuditKernel", "AuditRules", "TestSupport"]),
        .testTarget(name: "HostIOTests", dependencies: ["HostIO"]),
        .testTarget(name: "AuditRecordsTests", dependencies: ["AuditRecords", "TestSupport"]),
        .testTarget(name: "AuditEventsTests", dependencies: ["AuditEvents", "TestSupport"]),
        .testTarget(name: "AuditRulesTests", dependencies: ["AuditRules", "TestSupport"]),
        .testTarget(name: "AttributionTests", dependencies: ["Attribution", "TestSupport"]),
        .testTarget(name: "EnrichmentTests", dependencies: ["Enrichment", "Attribution", "AuditEvents", "HostIO", "TestSupport"]),
        .testTarget(name: "ConfigurationTests", dependencies: ["Configuration"]),
        .testTarget(name: "SigmaTests", dependencies: ["Sigma"]),
        .testTarget(name: "KubernetesAuditTests", dependencies: ["KubernetesAudit", "KubernetesAuditInput", "Pipeline", "AuditEvents", "Output", "TestSupport"]),
        .testTarget(name: "DeployTests", dependencies: ["TestSupport"]),
        .testTarget(name: "OutputTests", dependencies: ["Output", "AuditEvents", "TestSupport"]),
        .testTarget(name: "NodeAuditTests", dependencies: ["Pipeline", "OfflineParse", "Collector", "RuleSync", "AuditKernel", "AuditRules", "Output", "AuditEvents", "AuditRecords",
                                                           "Enrichment", "KubernetesAuditInput", "TestSupport"]),
        // Tests on the real kernel: root, serialized, restoring the kernel's audit state.
        .testTarget(name: "KernelTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

// Fuzz targets (Tests/Fuzz), built only by Scripts/fuzz: with NODEAUDIT_FUZZ set and
// `--sanitize fuzzer`, libFuzzer provides their main.
if ProcessInfo.processInfo.environment["NODEAUDIT_FUZZ"] != nil {
    let fuzzTargets: [(String, [Target.Dependency])] = [
        ("FuzzRecordParser", ["AuditRecords"]),
        ("FuzzEventPipeline", ["AuditRecords", "AuditEvents", "Pipeline", "Output"]),
        ("FuzzRuleParser", ["AuditRules"]),
    ]
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(
            name: name, dependencies: dependencies, path: "Tests/Fuzz/\(name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]))
    }
}
