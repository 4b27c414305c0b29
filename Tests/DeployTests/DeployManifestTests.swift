import Foundation
import Testing
import TestSupport

/// The DaemonSet as `kubectl apply -k Deploy/base` would create it, checked offline:
/// rendered by kubectl's kustomize and validated strictly against the Kubernetes schemas
/// (kubernetes-validate), with its rules and configuration the same as the repository's.
@Suite("Deploy/: manifests, rules and configuration", .serialized)
struct DeployManifestTests {
    static let deploy = Fixtures.repositoryRoot.appendingPathComponent("Deploy/base")

    /// Writes `yaml` to a file and validates it strictly. A resource without a schema (an
    /// unknown kind or apiVersion) is only a warning to the validator; here it fails.
    static func validate(_ yaml: Data) throws -> (passed: Bool, output: String) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-manifests-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try yaml.write(to: file)
        let result = try Command.run(try ReferenceTools.toolsPython(), ["-m", "kubernetes_validate", "--strict", file.path])
        let output = result.stdoutText + result.stderr
        return (result.status == 0 && !output.contains("Couldn't find schema"), output)
    }

    @Test("Deploy/base renders and every resource validates strictly against the Kubernetes schemas")
    func manifestsValidate() throws {
        let rendered = try DaemonSetPod.render(Self.deploy)
        try #require(rendered.status == 0, "kustomize: \(rendered.stderr)")
        let validation = try Self.validate(rendered.stdout)
        #expect(validation.passed, "\(validation.output)")
        for kind in ["kind: Namespace", "kind: ServiceAccount", "kind: DaemonSet", "kind: ConfigMap", "kind: ResourceQuota"] {
            #expect(rendered.stdoutText.contains(kind), "\(kind) is missing")
        }
        #expect(validation.output.components(separatedBy: "passed for resource").count - 1 == 7, "\(validation.output)")
    }

    @Test("a broken manifest fails the validation", arguments: [
        ("hostPID: true", "hostPIDs: true"),
        ("            exec:\n              command:", "            exec:\n              comand:"),
        ("            - name: NODE_NAME", "            - nam: NODE_NAME"),
        ("apiVersion: apps/v1", "apiVersion: apps/v1beta1"),
        ("            periodSeconds: 10", "            periodSeconds: ten"),
    ])
    func brokenManifestFails(original: String, broken: String) throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-deploy-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.copyItem(at: Self.deploy, to: copy)
        let daemonSet = copy.appendingPathComponent("daemonset.yaml")
        let text = try String(contentsOf: daemonSet, encoding: .utf8)
        try #require(text.contains(original))
        try text.replacingOccurrences(of: original, with: broken).write(to: daemonSet, atomically: true, encoding: .utf8)
        let rendered = try DaemonSetPod.render(copy)
        // kustomize refusing to render it counts as a failed validation too.
        let passed = rendered.status == 0 ? try Self.validate(rendered.stdout).passed : false
        #expect(!passed, "'\(broken)' passed the validation")
        #expect(rendered.status != 0 || !rendered.stdout.isEmpty, "kustomize gave nothing to validate")
    }

    @Test("the rules ConfigMaps hold exactly the files of Rules/ and Rules/sigma", arguments: [
        ("nodeaudit-rules", "Rules", ".rules"), ("nodeaudit-sigma", "Rules/sigma", ".yml"),
    ])
    func rulesConfigMapMatchesRules(configMap: String, directory: String, suffix: String) throws {
        let rendered = try DaemonSetPod.render(Self.deploy)
        try #require(rendered.status == 0)
        // The rendered ConfigMap's data, read with PyYAML (in the tools' virtual environment).
        let script = """
            import json, sys, yaml
            for doc in yaml.safe_load_all(sys.stdin):
                if doc and doc["kind"] == "ConfigMap" and doc["metadata"]["name"].startswith(sys.argv[1]):
                    print(json.dumps(doc["data"]))
            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-rendered-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try rendered.stdout.write(to: file)
        let extracted = try Command.run(try ReferenceTools.toolsPython(), ["-c", script, configMap], stdinFile: file.path)
        let data = try #require(try JSONSerialization.jsonObject(with: extracted.stdout) as? [String: String], "\(extracted.stderr)")

        let rulesDirectory = Fixtures.repositoryRoot.appendingPathComponent(directory)
        let ruleFiles = try FileManager.default.contentsOfDirectory(atPath: rulesDirectory.path).filter { $0.hasSuffix(suffix) }
        #expect(Set(data.keys) == Set(ruleFiles), "run Scripts/sync-deploy-rules")
        for name in ruleFiles {
            let original = try String(contentsOf: rulesDirectory.appendingPathComponent(name), encoding: .utf8)
            #expect(data[name] == original, "\(name) differs from \(directory)/\(name): run Scripts/sync-deploy-rules")
        }
    }

    @Test("the ConfigMap's configuration passes nodeaudit config check, and the DaemonSet runs with it")
    func configurationChecks() throws {
        let config = Self.deploy.appendingPathComponent("config.yaml").path
        let check = try NodeAuditBinary.run(["config", "check", config])
        #expect(check.status == 0, "\(check.stderr)")
        let daemonSet = try String(contentsOf: Self.deploy.appendingPathComponent("daemonset.yaml"), encoding: .utf8)
        #expect(daemonSet.contains(#"args: ["run", "--config", "/etc/nodeaudit/config.yaml"]"#))
        #expect(daemonSet.contains("mountPath: /etc/nodeaudit/rules"))
    }

    @Test("Deploy/uninstall validates, and removes what nodeaudit loaded from the record the DaemonSet's run keeps")
    func uninstallManifest() throws {
        let uninstall = Fixtures.repositoryRoot.appendingPathComponent("Deploy/uninstall")
        let rendered = try DaemonSetPod.render(uninstall)
        try #require(rendered.status == 0, "kustomize: \(rendered.stderr)")
        let validation = try Self.validate(rendered.stdout)
        #expect(validation.passed, "\(validation.output)")
        #expect(validation.output.components(separatedBy: "passed for resource").count - 1 == 2, "\(validation.output)")

        // The state directory the collector's configuration names is where the uninstall
        // looks, on the same host path.
        // (Run directly: the test runs of nodeaudit set a state directory of their own.)
        let shown = try Command.run(NodeAuditBinary.path, ["config", "show", "--config", Self.deploy.appendingPathComponent("config.yaml").path])
        let state = try #require(shown.stdoutText.split(separator: "\n").first { $0.contains("directory:") && $0.contains("state") })
        let directory = try #require(state.split(separator: "\"").dropFirst().first.map(String.init))
        let text = rendered.stdoutText
        // The image has no shell: nodeaudit is the pod's command and its readiness probe.
        #expect(text.contains("- args:\n        - rules\n        - delete\n        - --all-owned\n        - --wait\n        - --state-directory\n        - \(directory)\n"), "\(text)")
        #expect(text.contains("command:\n            - /usr/local/bin/nodeaudit\n            - rules\n            - delete\n            - --all-owned\n            - --check\n            - --state-directory\n            - \(directory)\n"), "\(text)")
        #expect(!text.contains("/bin/sh"))
        #expect(text.contains("nodeSelector:\n        kubernetes.io/os: linux"))
        let base = try DaemonSetPod.render(Self.deploy).stdoutText
        for manifest in [base, text] {
            #expect(manifest.contains("mountPath: /var/lib/nodeaudit\n") && manifest.contains("path: /var/lib/nodeaudit\n"))
            #expect(directory.hasPrefix("/var/lib/nodeaudit/"))
        }
        #expect(text.contains("- AUDIT_CONTROL") && !text.contains("privileged: true"))
    }

    @Test("Deploy/monitoring: core resources validate, the alerts pass promtool check rules and name real metrics, the ServiceMonitor finds the pods")
    func monitoringOverlay() throws {
        let rendered = try DaemonSetPod.render(Fixtures.repositoryRoot.appendingPathComponent("Deploy/monitoring"))
        try #require(rendered.status == 0, "kustomize: \(rendered.stderr)")
        // The operator's kinds have no schema offline: the core resources are validated
        // strictly, the PrometheusRule's alerts by promtool, the ServiceMonitor below.
        let script = """
            import json, sys, yaml
            docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
            core = [d for d in docs if not d["apiVersion"].startswith("monitoring.coreos.com/")]
            yaml.safe_dump_all(core, open(sys.argv[2], "w"))
            rule = next(d for d in docs if d["kind"] == "PrometheusRule")
            yaml.safe_dump({"groups": rule["spec"]["groups"]}, open(sys.argv[3], "w"))
            print(json.dumps({d["kind"]: d for d in docs if d["kind"] in ("ServiceMonitor", "Service", "DaemonSet")}))
            """
        let directory = try Fixtures.temporaryDirectory("monitoring")
        defer { try? FileManager.default.removeItem(at: directory) }
        let all = directory.appendingPathComponent("all.yaml"), core = directory.appendingPathComponent("core.yaml")
        let rules = directory.appendingPathComponent("rules.yaml")
        try rendered.stdout.write(to: all)
        let split = try Command.run(try ReferenceTools.toolsPython(), ["-c", script, all.path, core.path, rules.path])
        try #require(split.status == 0, "\(split.stderr)")

        let validation = try Self.validate(try Data(contentsOf: core))
        #expect(validation.passed, "\(validation.output)")
        let promtool = try ReferenceTools.path("promtool", package: "prometheus")
        let check = try Command.run(promtool, ["check", "rules", rules.path])
        #expect(check.status == 0, "\(check.stdoutText) \(check.stderr)")
        #expect(check.stdoutText.contains("SUCCESS: 9 rules found"), "\(check.stdoutText)")

        // Every metric an alert names is one nodeaudit exports.
        let exported = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Sources/Collector/CollectorStatistics.swift"), encoding: .utf8)
        let alerts = try String(contentsOf: rules, encoding: .utf8)
        let expressions = alerts.split(separator: "\n").filter { $0.contains("expr:") }.joined(separator: "\n")
        for metric in Set(expressions.matches(of: /nodeaudit_[a-z_]+/).map { String($0.output) }) {
            let name = metric.dropFirst("nodeaudit_".count)
            #expect(exported.contains("\"\(name)\""), "\(metric) is not a metric nodeaudit exports")
        }

        let kinds = try #require(try JSONSerialization.jsonObject(with: split.stdout) as? [String: [String: Any]])
        func value(_ object: Any?, _ path: String...) -> Any? {
            path.reduce(object) { ($0 as? [String: Any])?[$1] }
        }
        let podLabels = value(kinds["DaemonSet"], "spec", "template", "metadata", "labels") as? [String: String] ?? [:]
        let serviceSelector = value(kinds["Service"], "spec", "selector") as? [String: String] ?? [:]
        #expect(!serviceSelector.isEmpty && serviceSelector.allSatisfy { podLabels[$0.key] == $0.value })
        let serviceLabels = value(kinds["Service"], "metadata", "labels") as? [String: String] ?? [:]
        let monitorSelector = value(kinds["ServiceMonitor"], "spec", "selector", "matchLabels") as? [String: String] ?? [:]
        #expect(!monitorSelector.isEmpty && monitorSelector.allSatisfy { serviceLabels[$0.key] == $0.value })
        let ports = value(kinds["Service"], "spec", "ports") as? [[String: Any]] ?? []
        let endpoint = (value(kinds["ServiceMonitor"], "spec", "endpoints") as? [[String: Any]])?.first
        #expect(ports.contains { $0["name"] as? String == endpoint?["port"] as? String && $0["port"] as? Int == 9477 })
        #expect(alerts.contains("job=\"\(value(kinds["Service"], "metadata", "name") as? String ?? "")\""))
    }
}
