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
    /// The container's cgroup directory; a process written to its `cgroup.procs` is in the container.
    public let cgroupDirectory: String
    public let logRoot: URL
    public var podLogRoot: String { logRoot.appendingPathComponent("pods").path }
    public var containerLogRoot: String { logRoot.appendingPathComponent("containers").path }
    private var createdCgroups: [String] = []

    public init(driver: Driver, tag: String) throws {
        podUID = UUID().uuidString.lowercased()
        containerID = Self.randomContainerID()
        namespace = "ns-\(tag)"
        podName = "pod-\(tag)"
        containerName = "app"
        switch driver {
        case .cgroupfs(let root):
            cgroupDirectory = "\(root)/kubepods/besteffort/pod\(podUID)/\(containerID)"
        case .systemd(let root):
            let slice = "kubepods-besteffort-pod\(podUID.replacingOccurrences(of: "-", with: "_")).slice"
            cgroupDirectory = "\(root)/kubepods.slice/kubepods-besteffort.slice/\(slice)/cri-containerd-\(containerID).scope"
        }
        logRoot = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-kubelet-\(tag)")
        do {
            try makeCgroups(root: Self.root(of: driver))
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
        let containerLogDirectory = URL(fileURLWithPath: podLogRoot)
            .appendingPathComponent("\(namespace)_\(podName)_\(podUID)")
            .appendingPathComponent(containerName)
        try FileManager.default.createDirectory(at: containerLogDirectory, withIntermediateDirectories: true)
        let log = containerLogDirectory.appendingPathComponent("0.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: Data())
        try FileManager.default.createDirectory(atPath: containerLogRoot, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: "\(containerLogRoot)/\(podName)_\(namespace)_\(containerName)-\(containerID).log",
            withDestinationPath: log.path)
    }

    /// Removes the cgroups this layout created (waiting briefly for exited members to be
    /// released) and the log tree.
    public func remove() {
        for path in createdCgroups.reversed() {
            Wait.until(seconds: 5) { rmdir(path) == 0 || errno != EBUSY }
        }
        createdCgroups.removeAll()
        try? FileManager.default.removeItem(at: logRoot)
    }

    public enum LayoutError: Error {
        case cannotCreate(String, String)
    }
}
