import FoundationEssentials
import HostIO
import Attribution
import AuditEvents
import AuditRecords
#if canImport(Glibc)
import Glibc
#endif

/// What a container runtime's own files say of a container, read under the node's root
/// (`/host` in the DaemonSet): the bundle's `config.json` (its cgroup path, which names
/// the pod), runc's `state.json` (the first process's pid and the cgroup) and pid files.
///
/// The bundle exists before the runtime is asked to create the container, and the state
/// until the container is deleted: for a Kubernetes pod, until the kubelet removes it,
/// well after its processes exit. Every read is bounded; a file that is missing, too
/// large or not what the runtime writes gives nil.
package struct RuntimeFiles: Sendable {
    /// The node's root as nodeaudit sees it ("" on the host itself).
    package let hostRoot: String
    /// The most bytes read of a runtime JSON file (a bundle's config holds the pod spec's
    /// environment and mounts, well under this).
    static let jsonLimit = 4 << 20

    package init(hostRoot: String = "") {
        self.hostRoot = hostRoot
    }

    /// The runtimes' default state directories, for commands without `--root`.
    static func defaultRoot(runtimeExe: String) -> String {
        runtimeExe.hasSuffix("/crun") ? "/run/crun" : "/run/runc"
    }

    /// `path` as the runtime meant it (relative to its working directory `cwd`), under the node's root.
    package func hostPath(_ path: String, cwd: String?) -> String? {
        if path.hasPrefix("/") { return hostRoot + path }
        guard let cwd, cwd.hasPrefix("/") else { return nil }
        return hostRoot + cwd + "/" + path
    }

    /// The workload a bundle's `config.json` names through `linux.cgroupsPath`, for the
    /// container `id`.
    package func bundleWorkload(bundle: String, containerID id: String) -> Workload? {
        guard let path = decode(BundleConfig.self, from: bundle + "/config.json")?.linux?.cgroupsPath else { return nil }
        return Self.workload(cgroupsPath: path, containerID: id)
    }

    /// The workload runc's `state.json` of the container names (its cgroup paths).
    package func stateWorkload(root: String, containerID id: String) -> Workload? {
        guard let state = decode(RuncState.self, from: root + "/" + id + "/state.json") else { return nil }
        let live = state.cgroupPaths?.values.sorted().first
        guard let path = [state.config?.cgroups?.path, live].compactMap({ $0 }).first(where: { !$0.isEmpty }) else { return nil }
        return Self.workload(cgroupsPath: path, containerID: id)
    }

    /// The pid a launch's runtime wrote: a pid file holds the number alone, runc's
    /// `state.json` holds it as `init_process_pid`.
    package func pid(from source: String) -> UInt32? {
        if source.hasSuffix(".json") {
            return decode(RuncState.self, from: source)?.initProcessPID.flatMap { UInt32(exactly: $0) }
        }
        guard let bytes = try? HostFile.read(source, limit: 64) else { return nil }
        return ByteNumbers.decimal(bytes.prefix { $0 >= 48 && $0 <= 57 }).flatMap { UInt32(exactly: $0) }
    }

    /// What nodeaudit reads of an OCI bundle's `config.json`.
    struct BundleConfig: Decodable {
        struct Linux: Decodable {
            var cgroupsPath: String?
        }
        var linux: Linux?
    }

    /// What nodeaudit reads of runc's `state.json`.
    struct RuncState: Decodable {
        struct Config: Decodable {
            struct Cgroups: Decodable {
                var path: String?
            }
            var cgroups: Cgroups?
        }
        var initProcessPID: Int64?
        var cgroupPaths: [String: String]?
        var config: Config?

        enum CodingKeys: String, CodingKey {
            case initProcessPID = "init_process_pid"
            case cgroupPaths = "cgroup_paths"
            case config
        }
    }

    /// A container's workload from the cgroup path its runtime was given: a path
    /// (cgroupfs, `/kubepods/besteffort/pod<uid>/<id>`) or systemd's
    /// `slice:prefix:name` (`kubepods-besteffort-pod<uid>.slice:cri-containerd:<id>`).
    /// The container is the runtime's, whatever the path's last segment says.
    static func workload(cgroupsPath path: String, containerID id: String) -> Workload {
        var workload = CgroupPath.workload(path: path.hasPrefix("/") ? path : "/" + path)
        if !path.hasPrefix("/") { workload.cgroup = nil }
        let runtime = workload.container?.runtime
        workload.container = Workload.Container(id: id, runtime: runtime)
        workload.unit = nil
        return workload
    }

    /// A JSON file of the runtime, at a host path (`hostPath` already applied), as `type`.
    private func decode<T: Decodable>(_ type: T.Type, from path: String) -> T? {
        guard let bytes = try? HostFile.read(path, limit: Self.jsonLimit), bytes.count < Self.jsonLimit else { return nil }
        return try? JSONDecoder().decode(type, from: Data(bytes))
    }

    /// The executable of a live process and whether its file belongs to root, for
    /// deciding whether a runtime command's parent is a trusted supervisor.
    package func executable(procRoot: String, pid: UInt32) -> (path: [UInt8], ownedByRoot: Bool)? {
        let link = "\(procRoot)/\(pid)/exe"
        guard let target = HostFile.linkTarget(link) else { return nil }
        var status = stat()
        guard stat(link, &status) == 0 else { return nil }
        return (target, status.st_uid == 0)
    }
}
