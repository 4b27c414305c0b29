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

    /// A YAML file's documents as JSON (PyYAML in the tools' virtual environment).
    static func documents(_ yaml: Data) throws -> [[String: Any]] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-yaml-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: file) }
        try yaml.write(to: file)
        let script = "import json, sys, yaml; print(json.dumps([d for d in yaml.safe_load_all(open(sys.argv[1])) if d]))"
        let result = try Command.run(try ReferenceTools.toolsPython(), ["-c", script, file.path])
        return try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]], "\(result.stderr)")
    }

    @Test("Deploy/control-plane validates; its DaemonSet tolerates the control-plane taint, mounts the API server's log directory read-only and follows its log")
    func controlPlaneOverlay() throws {
        let rendered = try DaemonSetPod.render(Fixtures.repositoryRoot.appendingPathComponent("Deploy/control-plane"))
        try #require(rendered.status == 0, "kustomize: \(rendered.stderr)")
        let validation = try Self.validate(rendered.stdout)
        #expect(validation.passed, "\(validation.output)")
        let daemonSet = try #require(try Self.documents(rendered.stdout).first { $0["kind"] as? String == "DaemonSet" })
        let spec = ((daemonSet["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any] ?? [:]
        // A toleration admits a taint as the scheduler decides: Exists without a key admits all.
        let tolerations = spec["tolerations"] as? [[String: Any]] ?? []
        let tolerated = tolerations.contains { toleration in
            let key = toleration["key"] as? String
            let effect = toleration["effect"] as? String
            return (key == nil || key == "node-role.kubernetes.io/control-plane") && (effect == nil || effect == "NoSchedule")
                && (toleration["operator"] as? String == "Exists" || key != nil)
        }
        #expect(tolerated, "\(tolerations)")
        let container = try #require((spec["containers"] as? [[String: Any]])?.first)
        let environment = container["env"] as? [[String: Any]] ?? []
        let file = environment.first { $0["name"] as? String == "NODEAUDIT_K8S_AUDIT_FILE" }?["value"] as? String
        #expect(file == "/var/log/kubernetes/audit/audit.log")
        #expect(environment.contains { $0["name"] as? String == "NODE_NAME" }, "the base's environment is kept")
        let mount = (container["volumeMounts"] as? [[String: Any]])?.first { $0["mountPath"] as? String == "/var/log/kubernetes/audit" }
        #expect(mount?["readOnly"] as? Bool == true)
        let volume = (spec["volumes"] as? [[String: Any]])?.first { $0["name"] as? String == mount?["name"] as? String }
        #expect((volume?["hostPath"] as? [String: Any])?["path"] as? String == "/var/log/kubernetes/audit")
        // The file's setting as the pod has it: the base configuration with the overlay's environment.
        let config = Self.deploy.appendingPathComponent("config.yaml").path
        let shown = try NodeAuditBinary.run(["config", "show", "--config", config], environment: ["NODEAUDIT_K8S_AUDIT_FILE": file ?? ""])
        #expect(shown.status == 0 && shown.stdoutText.contains("file: \"/var/log/kubernetes/audit/audit.log\""), "\(shown.stdoutText)")
    }

    @Test("Deploy/k8s-audit/policy.yaml, decided rule by rule as the API server does: exec, attach and port forwarding at Request, Secrets and ConfigMaps at Metadata, the rest at Metadata")
    func auditPolicy() throws {
        let policy = try #require(try Self.documents(Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Deploy/k8s-audit/policy.yaml"))).first)
        #expect(policy["apiVersion"] as? String == "audit.k8s.io/v1" && policy["kind"] as? String == "Policy")
        let rules = try #require(policy["rules"] as? [[String: Any]])
        let levels: Set<String> = ["None", "Metadata", "Request", "RequestResponse"]
        #expect(rules.allSatisfy { levels.contains($0["level"] as? String ?? "") })
        #expect(Set(policy["omitStages"] as? [String] ?? []).isSubset(of: ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"]))
        #expect(!(policy["omitStages"] as? [String] ?? []).contains("ResponseStarted"), "an exec's ResponseStarted is what the join uses")
        /// The level of a request: the first rule whose resources (if any) name it.
        func level(group: String, resource: String) -> String? {
            rules.first { rule in
                guard let resources = rule["resources"] as? [[String: Any]] else { return rule.keys.sorted() == ["level"] }
                return resources.contains { ($0["group"] as? String ?? "") == group && (($0["resources"] as? [String]) ?? []).contains(resource) }
            }?["level"] as? String
        }
        for resource in ["pods/exec", "pods/attach", "pods/portforward"] { #expect(level(group: "", resource: resource) == "Request", "\(resource)") }
        for resource in ["secrets", "configmaps", "serviceaccounts/token"] { #expect(level(group: "", resource: resource) == "Metadata", "\(resource)") }
        #expect(level(group: "authentication.k8s.io", resource: "tokenreviews") == "Metadata")
        #expect(level(group: "apps", resource: "deployments") == "Metadata")
        #expect(!rules.contains { $0["level"] as? String == "RequestResponse" }, "no rule may record a body with its response")
    }

    @Test("Deploy/k8s-audit/webhook-kubeconfig.yaml names an HTTPS loopback server with a CA and a client certificate, whose address nodeaudit's configuration takes")
    func webhookKubeconfig() throws {
        let kubeconfig = try #require(try Self.documents(Data(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Deploy/k8s-audit/webhook-kubeconfig.yaml"))).first)
        #expect(kubeconfig["kind"] as? String == "Config")
        let cluster = try #require(((kubeconfig["clusters"] as? [[String: Any]])?.first?["cluster"]) as? [String: Any])
        let user = try #require(((kubeconfig["users"] as? [[String: Any]])?.first?["user"]) as? [String: Any])
        #expect(cluster["certificate-authority"] != nil && user["client-certificate"] != nil && user["client-key"] != nil)
        let server = try #require(URL(string: cluster["server"] as? String ?? ""))
        #expect(server.scheme == "https" && server.host == "127.0.0.1")
        let context = (kubeconfig["contexts"] as? [[String: Any]])?.first
        #expect(kubeconfig["current-context"] as? String == context?["name"] as? String)
        let directory = try Fixtures.temporaryDirectory("webhook-config")
        defer { try? FileManager.default.removeItem(at: directory) }
        let config = directory.appendingPathComponent("config.yaml")
        try """
            k8s_audit:
              webhook_listen: "127.0.0.1:\(server.port ?? 0)"
              webhook_certificate: /etc/nodeaudit/webhook/tls.crt
              webhook_key: /etc/nodeaudit/webhook/tls.key
              webhook_client_ca: /etc/nodeaudit/webhook/client-ca.crt
            """.write(to: config, atomically: true, encoding: .utf8)
        let check = try NodeAuditBinary.run(["config", "check", config.path])
        #expect(check.status == 0, "\(check.stderr)")
    }
}
