import Foundation

/// What the kubelet leaves on a node for one pod with one container, made for real by a
/// test: the container's cgroup (cgroupfs driver on a v1 controller, or the systemd
/// driver's slices on cgroup v2) and the pod's log directory and container log link.
/// `remove()` takes away exactly what `create` made, deepest first.
public final class KubeletLayout {
    public enum Driver {
        /// `/sys/fs/cgroup/<controller>/kubepods/besteffort/pod<uid>/<id>`.
        case cgroupfs(controllerRoot: String)
        /// `<v2 root>/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid_>.slice/cri-containerd-<id>.scope`.
        case systemd(unifiedRoot: String)
    }

    public let podUID: String
    public let containerID: String
    public let namespace: String
    public let podName: String
    public let containerName: String
    /// The container's cgroup below the hierarchy's root, as the kubelet names it.
    public let cgroupPath: String
    /// The container's cgroup directory; a process written to its `cgroup.procs` is in the container.
    public let cgroupDirectory: String
    public let logRoot: URL
    public var podLogRoot: String { logRoot.appendingPathComponent("pods").path }
    public var containerLogRoot: String { logRoot.appendingPathComponent("containers").path }
    private var createdCgroups: [String] = []
    /// Files and directories `makeLogs` created, in creation order.
    private var createdLogPaths: [String] = []

    /// `createsCgroups`: false when a container runtime creates the cgroup at
    /// `cgroupPath` itself. `logRoot`: where `pods/` and `containers/` go (by default a
    /// temporary directory; `/var/log` is the kubelet's own).
    public init(driver: Driver, tag: String, createsCgroups: Bool = true, logRoot: URL? = nil) throws {
        podUID = UUID().uuidString.lowercased()
        containerID = Self.randomContainerID()
        namespace = "ns-\(tag)"
        podName = "pod-\(tag)"
        containerName = "app"
        switch driver {
        case .cgroupfs:
            cgroupPath = "/kubepods/besteffort/pod\(podUID)/\(containerID)"
        case .systemd:
            let slice = "kubepods-besteffort-pod\(podUID.replacingOccurrences(of: "-", with: "_")).slice"
            cgroupPath = "/kubepods.slice/kubepods-besteffort.slice/\(slice)/cri-containerd-\(containerID).scope"
        }
        cgroupDirectory = Self.root(of: driver) + cgroupPath
        self.logRoot = logRoot ?? FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-kubelet-\(tag)")
        do {
            if createsCgroups { try makeCgroups(root: Self.root(of: driver)) }
            try makeLogs()
        } catch {
            remove()
            throw error
        }
    }

    /// A 64-hex id as docker, containerd and CRI-O give their containers.
    public static func randomContainerID() -> String {
        (0..<4).map { _ in String(format: "%016llx", UInt64.random(in: 0...UInt64.max)) }.joined()
    }

    private static func root(of driver: Driver) -> String {
        switch driver {
        case .cgroupfs(let root), .systemd(let root): return root
        }
    }

    private func makeCgroups(root: String) throws {
        var path = root
        for component in cgroupDirectory.dropFirst(root.count).split(separator: "/") {
            path += "/" + component
            if FileManager.default.fileExists(atPath: path) { continue }
            guard mkdir(path, 0o755) == 0 else {
                throw LayoutError.cannotCreate(path, String(cString: strerror(errno)))
            }
            createdCgroups.append(path)
        }
    }

    private func makeLogs() throws {
        let containerLogDirectory = "\(podLogRoot)/\(namespace)_\(podName)_\(podUID)/\(containerName)"
        try makeDirectories(containerLogDirectory)
        let log = containerLogDirectory + "/0.log"
        guard FileManager.default.createFile(atPath: log, contents: Data()) else { throw LayoutError.cannotCreate(log, "create") }
        createdLogPaths.append(log)
        try makeDirectories(containerLogRoot)
        let link = "\(containerLogRoot)/\(podName)_\(namespace)_\(containerName)-\(containerID).log"
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: log)
        createdLogPaths.append(link)
    }

    /// `mkdir -p`, remembering each directory it made.
    private func makeDirectories(_ path: String) throws {
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            if FileManager.default.fileExists(atPath: current) { continue }
            guard mkdir(current, 0o755) == 0 else { throw LayoutError.cannotCreate(current, String(cString: strerror(errno))) }
            createdLogPaths.append(current)
        }
    }

    /// Removes the cgroups this layout created (waiting briefly for exited members to be
    /// released) and the log files and directories it made, newest first.
    public func remove() {
        for path in createdCgroups.reversed() {
            Wait.until(seconds: 5) { rmdir(path) == 0 || errno != EBUSY }
        }
        createdCgroups.removeAll()
        for path in createdLogPaths.reversed() { try? FileManager.default.removeItem(atPath: path) }
        createdLogPaths.removeAll()
    }

    public enum LayoutError: Error {
        case cannotCreate(String, String)
    }
}
