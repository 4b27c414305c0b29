import Foundation

/// The DaemonSet's pod as `kubectl apply -k Deploy/base` would create it, turned into the
/// `podman run` that starts the same container on this node: host pid and network, the
/// security context, the resources' limits, the environment, the arguments, the ConfigMaps
/// and host paths at their mount points. The flags come from the rendered manifest
/// itself, so a test of the image cannot drift from what clusters run; a field this
/// translation does not know fails it rather than being left out.
public struct DaemonSetPod {
    /// A field of the pod the translation cannot honour.
    public struct Untranslated: Error, CustomStringConvertible {
        public let field: String
        public var description: String { "DaemonSetPod does not know how to run '\(field)' with podman: teach it" }
    }

    /// Fields that only matter to the API server or the scheduler, or that the test checks
    /// itself (the probes), and so have no `podman run` equivalent.
    static let schedulingOnly: Set<String> = [
        "serviceAccountName", "automountServiceAccountToken", "dnsPolicy", "priorityClassName", "nodeSelector",
        "terminationGracePeriodSeconds", "tolerations",
    ]
    static let containerOnlyForKubelet: Set<String> = ["name", "image", "imagePullPolicy", "startupProbe", "livenessProbe", "readinessProbe"]

    let podSpec: [String: Any]
    let container: [String: Any]
    let configMaps: [String: [String: String]]

    /// `kubectl kustomize directory`: the manifests `kubectl apply -k` would send.
    public static func render(_ directory: URL) throws -> Command.Result {
        try Command.run(try ReferenceTools.path("kubectl", package: "kubernetes-client"), ["kustomize", directory.path])
    }

    /// Renders `directory` (a kustomization) with kubectl and reads its DaemonSet and
    /// ConfigMaps.
    public init(kustomization directory: URL) throws {
        let rendered = try Self.render(directory)
        guard rendered.status == 0 else { throw Untranslated(field: "kustomize: \(rendered.stderr)") }
        let yaml = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-rendered-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: yaml) }
        try rendered.stdout.write(to: yaml)
        let json = try Command.run(try ReferenceTools.toolsPython(),
                                   ["-c", "import json, sys, yaml; json.dump(list(yaml.safe_load_all(sys.stdin)), sys.stdout)"],
                                   stdinFile: yaml.path)
        guard json.status == 0, let documents = try JSONSerialization.jsonObject(with: json.stdout) as? [[String: Any]] else {
            throw Untranslated(field: "YAML: \(json.stderr)")
        }
        var maps: [String: [String: String]] = [:]
        var spec: [String: Any]?
        for document in documents {
            let name = (document["metadata"] as? [String: Any])?["name"] as? String ?? ""
            switch document["kind"] as? String {
            case "ConfigMap": maps[name] = document["data"] as? [String: String] ?? [:]
            case "DaemonSet": spec = ((document["spec"] as? [String: Any])?["template"] as? [String: Any])?["spec"] as? [String: Any]
            default: continue
            }
        }
        guard let spec, let containers = spec["containers"] as? [[String: Any]], containers.count == 1 else {
            throw Untranslated(field: "spec.template.spec.containers (exactly one)")
        }
        podSpec = spec
        container = containers[0]
        configMaps = maps
    }

    /// The probe the kubelet waits for before it counts the container as started.
    public var startupProbe: (path: String, port: Int)? {
        guard let get = (container["startupProbe"] as? [String: Any])?["httpGet"] as? [String: Any],
              let path = get["path"] as? String, let port = get["port"] as? Int else { return nil }
        return (path, port)
    }

    /// Seconds between SIGTERM and SIGKILL when the pod is deleted.
    public var terminationGracePeriod: Int { podSpec["terminationGracePeriodSeconds"] as? Int ?? 30 }

    /// The ConfigMap volumes' files, written under `directory/<ConfigMap name>/`.
    public func writeConfigMaps(into directory: URL) throws {
        for (name, files) in configMaps {
            let folder = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for (file, text) in files { try text.write(to: folder.appendingPathComponent(file), atomically: true, encoding: .utf8) }
        }
    }

    /// The `podman run` arguments (after `run`) of this pod's container from `image`, with
    /// its ConfigMaps read from `configMaps` (see `writeConfigMaps`), the host paths of
    /// `hostPaths` replaced (the others used as they are, made when the manifest says
    /// DirectoryOrCreate), and `nodeName` as the downward API's `spec.nodeName`.
    public func podmanArguments(image: String, name: String, configMaps: URL, hostPaths: [String: String] = [:],
                                nodeName: String) throws -> [String] {
        var arguments = ["--name", name]
        for (key, value) in podSpec {
            switch key {
            case "hostPID": if value as? Bool == true { arguments += ["--pid", "host"] }
            case "hostNetwork": if value as? Bool == true { arguments += ["--network", "host"] }
            case "containers", "volumes": continue
            default: guard Self.schedulingOnly.contains(key) else { throw Untranslated(field: "spec.\(key)") }
            }
        }
        let volumes = try volumeSources(configMaps: configMaps, hostPaths: hostPaths)
        var command: [String] = []
        for (key, value) in container {
            switch key {
            case "args": command += value as? [String] ?? []
            case "command": arguments += ["--entrypoint", (value as? [String] ?? []).joined(separator: " ")]
            case "env": arguments += try environment(value, nodeName: nodeName)
            case "securityContext": arguments += try securityContext(value as? [String: Any] ?? [:])
            case "resources": arguments += try limits(value as? [String: Any] ?? [:])
            case "volumeMounts": arguments += try mounts(value as? [[String: Any]] ?? [], volumes: volumes)
            default: guard Self.containerOnlyForKubelet.contains(key) else { throw Untranslated(field: "containers[0].\(key)") }
            }
        }
        return arguments + [image] + command
    }

    private func environment(_ value: Any, nodeName: String) throws -> [String] {
        try (value as? [[String: Any]] ?? []).flatMap { variable -> [String] in
            let name = variable["name"] as? String ?? ""
            if let literal = variable["value"] as? String { return ["--env", "\(name)=\(literal)"] }
            let field = ((variable["valueFrom"] as? [String: Any])?["fieldRef"] as? [String: Any])?["fieldPath"] as? String
            guard field == "spec.nodeName" else { throw Untranslated(field: "env \(name)") }
            return ["--env", "\(name)=\(nodeName)"]
        }
    }

    private func securityContext(_ context: [String: Any]) throws -> [String] {
        var arguments: [String] = []
        for (key, value) in context {
            switch key {
            case "runAsUser": arguments += ["--user", "\(value)"]
            case "runAsNonRoot": if value as? Bool == true { throw Untranslated(field: "securityContext.runAsNonRoot: true") }
            case "privileged": if value as? Bool == true { arguments.append("--privileged") }
            case "allowPrivilegeEscalation": if value as? Bool == false { arguments += ["--security-opt", "no-new-privileges"] }
            // Kubernetes mounts no tmpfs on a read-only root; podman would by default.
            case "readOnlyRootFilesystem": if value as? Bool == true { arguments += ["--read-only", "--read-only-tmpfs=false"] }
            case "capabilities":
                let capabilities = value as? [String: Any] ?? [:]
                for drop in capabilities["drop"] as? [String] ?? [] { arguments += ["--cap-drop", drop] }
                for add in capabilities["add"] as? [String] ?? [] { arguments += ["--cap-add", add] }
            case "seccompProfile":
                switch (value as? [String: Any])?["type"] as? String {
                case "RuntimeDefault": continue  // podman's default profile, as the kubelet's
                case "Unconfined": arguments += ["--security-opt", "seccomp=unconfined"]
                default: throw Untranslated(field: "securityContext.seccompProfile")
                }
            default: throw Untranslated(field: "securityContext.\(key)")
            }
        }
        return arguments
    }

    /// Limits as the kubelet sets them (requests only weigh in scheduling and CPU shares).
    private func limits(_ resources: [String: Any]) throws -> [String] {
        var arguments: [String] = []
        for (name, value) in resources["limits"] as? [String: Any] ?? [:] {
            let text = "\(value)"
            switch name {
            case "cpu": arguments += ["--cpus", text.hasSuffix("m") ? String(Double(text.dropLast())! / 1000) : text]
            case "memory":
                guard text.hasSuffix("Mi"), let mebibytes = Int(text.dropLast(2)) else { throw Untranslated(field: "resources.limits.memory \(text)") }
                arguments += ["--memory", "\(mebibytes)m"]
            default: throw Untranslated(field: "resources.limits.\(name)")
            }
        }
        return arguments
    }

    /// Each volume's directory on this node.
    private func volumeSources(configMaps: URL, hostPaths: [String: String]) throws -> [String: String] {
        var sources: [String: String] = [:]
        for volume in podSpec["volumes"] as? [[String: Any]] ?? [] {
            let name = volume["name"] as? String ?? ""
            if let map = volume["configMap"] as? [String: Any], let mapName = map["name"] as? String, map.count == 1 {
                guard self.configMaps[mapName] != nil else { throw Untranslated(field: "configMap \(mapName) (not rendered)") }
                sources[name] = configMaps.appendingPathComponent(mapName).path
            } else if let hostPath = volume["hostPath"] as? [String: Any], let path = hostPath["path"] as? String {
                let source = hostPaths[path] ?? path
                switch hostPath["type"] as? String {
                case "DirectoryOrCreate": try FileManager.default.createDirectory(atPath: source, withIntermediateDirectories: true)
                case "Directory":
                    var isDirectory: ObjCBool = false
                    guard FileManager.default.fileExists(atPath: source, isDirectory: &isDirectory), isDirectory.boolValue else {
                        throw Untranslated(field: "hostPath \(path): not a directory here")
                    }
                default: throw Untranslated(field: "hostPath \(path) type")
                }
                sources[name] = source
            } else {
                throw Untranslated(field: "volume \(name)")
            }
        }
        return sources
    }

    private func mounts(_ mounts: [[String: Any]], volumes: [String: String]) throws -> [String] {
        try mounts.flatMap { mount -> [String] in
            let name = mount["name"] as? String ?? ""
            guard var source = volumes[name], let target = mount["mountPath"] as? String else { throw Untranslated(field: "volumeMount \(name)") }
            for key in mount.keys where !["name", "mountPath", "subPath", "readOnly"].contains(key) {
                throw Untranslated(field: "volumeMount \(name).\(key)")
            }
            if let subPath = mount["subPath"] as? String { source += "/" + subPath }
            return ["--volume", "\(source):\(target)" + (mount["readOnly"] as? Bool == true ? ":ro" : "")]
        }
    }
}
