import Foundation

/// A real containerd (Debian's 1.6), started by a test with a root, state and socket of its
/// own, that runs busybox containers through `ctr` the way the kubelet has containerd run
/// them: in the `k8s.io` namespace, children of `containerd-shim-runc-v2`, in the cgroup the
/// kubelet chose. `stop()` removes its containers, ends the daemon (by its pid) and deletes
/// its directories.
public final class Containerd {
    public static var isAvailable: Bool {
        ["containerd", "ctr", "containerd-shim-runc-v2", "runc"].allSatisfy { Command.which($0) != nil } && BusyboxRootfs.isAvailable
    }

    private let directory: URL
    private let socket: String
    private let rootfs: URL
    private let daemon = Process()
    private var containers: [String] = []

    /// `loginUID`: containerd starts as if from a login by that user (its audit session
    /// then passes to every container process, as when an admin starts it by hand).
    public init(loginUID: Int? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-containerd-\(UUID().uuidString.prefix(8))")
        socket = directory.appendingPathComponent("containerd.sock").path
        rootfs = directory.appendingPathComponent("rootfs")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try BusyboxRootfs.make(at: rootfs)
        // The CRI plugin is not needed by ctr (and would set up CNI); with it on, the
        // kubelet's nodes set restrict_oom_score_adj when containerd runs in a container.
        let config = """
            version = 2
            root = "\(directory.path)/root"
            state = "\(directory.path)/state"
            disabled_plugins = ["io.containerd.grpc.v1.cri"]
            [grpc]
              address = "\(socket)"
            [ttrpc]
              address = "\(socket).ttrpc"
            """
        let configFile = directory.appendingPathComponent("config.toml")
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        if let loginUID {
            daemon.executableURL = URL(fileURLWithPath: "/bin/sh")
            daemon.arguments = ["-c", "echo \(loginUID) > /proc/self/loginuid && exec \"$0\" --config \"$1\"",
                                Command.which("containerd")!, configFile.path]
        } else {
            daemon.executableURL = URL(fileURLWithPath: Command.which("containerd")!)
            daemon.arguments = ["--config", configFile.path]
        }
        daemon.standardInput = FileHandle.nullDevice
        daemon.standardOutput = FileHandle.nullDevice
        let log = directory.appendingPathComponent("containerd.log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        daemon.standardError = try FileHandle(forWritingTo: log)
        try daemon.run()
        let answers = Wait.until(seconds: 30) { !self.daemon.isRunning || ((try? self.ctr(["version"]).status) == 0) }
        guard answers, daemon.isRunning else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            stop()
            throw ContainerdError.failed("containerd did not start", String(text.suffix(2000)))
        }
    }

    deinit { stop() }

    /// `ctr` against this daemon, in the kubelet's namespace.
    public func ctr(_ arguments: [String]) throws -> Command.Result {
        try Command.run(Command.which("ctr")!, ["--address", socket, "--namespace", "k8s.io"] + arguments)
    }

    /// `ctr run --detach`: a container `id` running `/bin/sh -c script` in `cgroup` (a
    /// path below the hierarchy's root, as the kubelet's cgroupfs driver passes it).
    public func run(id: String, cgroup: String, script: String) throws {
        let result = try ctr(["run", "--detach", "--null-io", "--cgroup", cgroup, "--rootfs", rootfs.path, id, "/bin/sh", "-c", script])
        guard result.status == 0 else { throw ContainerdError.failed("ctr run", result.stderr) }
        containers.append(id)
    }

    /// Where the containers' root filesystem is (busybox), to add a program to it.
    public var rootfsPath: String { rootfs.path }

    /// `ctr run --rm`: a container `id` in `cgroup` running `argv` to its end, in the
    /// foreground (a Job's pod, `kubectl run --rm`); deleted when it exits.
    @discardableResult
    public func runOnce(id: String, cgroup: String, _ argv: [String]) throws -> Command.Result {
        try ctr(["run", "--rm", "--null-io", "--cgroup", cgroup, "--rootfs", rootfs.path, id] + argv)
    }

    /// `ctr task exec`: `argv` run in the running container `id` to its end (the node side
    /// of a one-shot `kubectl exec`).
    @discardableResult
    public func exec(_ id: String, _ argv: [String]) throws -> Command.Result {
        try ctr(["task", "exec", "--exec-id", "exec-\(UUID().uuidString.prefix(8))", id] + argv)
    }

    /// The pid of a container's first process, as `ctr task ls` reports it.
    public func taskPID(_ id: String) throws -> Int? {
        for line in try ctr(["task", "ls"]).stdoutText.split(separator: "\n").dropFirst() {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            if columns.count >= 3, columns[0] == id { return Int(columns[1]) }
        }
        return nil
    }

    /// `ctr task exec -t ID /bin/sh` on a pseudo-terminal (the node side of
    /// `kubectl exec -it`), typing `lines`; returns what the terminal showed.
    public func execInteractive(_ id: String, _ lines: [String]) throws -> String {
        try Terminal.type(lines, into: [Command.which("ctr")!, "--address", socket, "--namespace", "k8s.io",
                                        "task", "exec", "--tty", "--exec-id", "shell-\(UUID().uuidString.prefix(8))", id, "/bin/sh"])
    }

    /// Kills and deletes the containers, ends containerd and removes its directories.
    public func stop() {
        if daemon.isRunning {
            for id in containers {
                _ = try? ctr(["task", "kill", "--signal", "SIGKILL", id])
                _ = Wait.until(seconds: 10) { (try? self.ctr(["task", "delete", id]).status) == 0 || (try? self.taskPID(id)) == nil }
                _ = try? ctr(["container", "delete", id])
            }
            containers.removeAll()
            kill(daemon.processIdentifier, SIGTERM)
            if !Wait.until(seconds: 10, { !self.daemon.isRunning }) { kill(daemon.processIdentifier, SIGKILL) }
            daemon.waitUntilExit()
        }
        // containerd's runtime state holds mounts (the rootfs' bind) until the shims end.
        try? FileManager.default.removeItem(at: directory)
    }

    public enum ContainerdError: Error {
        case failed(String, String)
    }
}
