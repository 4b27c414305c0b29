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

    /// The command of an exec probe (`startupProbe`, `readinessProbe`, `livenessProbe`),
    /// which the kubelet runs inside the container (`podman exec`); nil when the probe is
    /// missing or of another kind.
    public func execProbe(_ name: String) -> [String]? {
        ((container[name] as? [String: Any])?["exec"] as? [String: Any])?["command"] as? [String]
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

    /// Where a volume's files come from.
    private enum VolumeSource {
        /// A directory of this node.
        case path(String)
        /// An emptyDir: a fresh directory of the pod's own.
        case empty
    }

    /// Each volume's source on this node.
    private func volumeSources(configMaps: URL, hostPaths: [String: String]) throws -> [String: VolumeSource] {
        var sources: [String: VolumeSource] = [:]
        for volume in podSpec["volumes"] as? [[String: Any]] ?? [] {
            let name = volume["name"] as? String ?? ""
            if let map = volume["configMap"] as? [String: Any], let mapName = map["name"] as? String, map.count == 1 {
                guard self.configMaps[mapName] != nil else { throw Untranslated(field: "configMap \(mapName) (not rendered)") }
                sources[name] = .path(configMaps.appendingPathComponent(mapName).path)
            } else if volume["emptyDir"] is [String: Any] {
                sources[name] = .empty
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
                sources[name] = .path(source)
            } else {
                throw Untranslated(field: "volume \(name)")
            }
        }
        return sources
    }

    private func mounts(_ mounts: [[String: Any]], volumes: [String: VolumeSource]) throws -> [String] {
        try mounts.flatMap { mount -> [String] in
            let name = mount["name"] as? String ?? ""
            guard let volume = volumes[name], let target = mount["mountPath"] as? String else { throw Untranslated(field: "volumeMount \(name)") }
            for key in mount.keys where !["name", "mountPath", "subPath", "readOnly", "recursiveReadOnly"].contains(key) {
                throw Untranslated(field: "volumeMount \(name).\(key)")
            }
            guard case .path(var source) = volume else { return ["--tmpfs", target] }
            if let subPath = mount["subPath"] as? String { source += "/" + subPath }
            let readOnly = mount["readOnly"] as? Bool == true
            var arguments = ["--volume", "\(source):\(target)" + (readOnly ? ":ro" : "")]
            switch mount["recursiveReadOnly"] as? String {
            case nil, "Disabled": break
            case "Enabled":
                guard readOnly else { throw Untranslated(field: "volumeMount \(name): recursiveReadOnly without readOnly") }
                // podman 4.3 has no `rro`: each mount below the source is bound read-only
                // at its place below the target too, which is what a recursive read-only
                // mount gives (the kubelet asks the runtime for one).
                for submount in try Self.mountPoints(below: source) {
                    arguments += ["--volume", "\(submount):\(target)\(source == "/" ? submount : String(submount.dropFirst(source.count))):ro"]
                }
            default: throw Untranslated(field: "volumeMount \(name).recursiveReadOnly")
            }
            return arguments
        }
    }

    /// The mount points of this node strictly below `directory`, from /proc/self/mountinfo.
    static func mountPoints(below directory: String) throws -> [String] {
        let prefix = directory.hasSuffix("/") ? directory : directory + "/"
        let table = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        var points: [String] = []
        for line in table.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { continue }
            // Spaces and other bytes are octal escapes there (\040).
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            if point.hasPrefix(prefix), point != directory, !points.contains(point) { points.append(point) }
        }
        return points
    }
}
