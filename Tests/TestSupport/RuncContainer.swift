import Foundation

/// A real container run by Debian's runc from a busybox-static root filesystem, for
/// tests that need a process the way a container runtime starts it (its own cgroup,
/// namespaces and id). `remove()` deletes the container and its bundle.
public final class RuncContainer {
    public static var isAvailable: Bool {
        Command.which("runc") != nil && BusyboxRootfs.isAvailable
    }

    public let id: String
    public let bundle: URL
    private var started = false

    /// Prepares a bundle whose container runs `/bin/sh -c script`.
    public init(script: String) throws {
        id = KubeletLayout.randomContainerID()
        bundle = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-runc-\(id.prefix(12))")
        try BusyboxRootfs.make(at: bundle.appendingPathComponent("rootfs"))
        let spec = try Command.run(Command.which("runc")!, ["spec", "--bundle", bundle.path])
        guard spec.status == 0 else { throw RuncError.failed("runc spec", spec.stderr) }
        let configURL = bundle.appendingPathComponent("config.json")
        guard var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as? [String: Any],
              var process = config["process"] as? [String: Any] else {
            throw RuncError.failed("runc spec", "config.json is not an object")
        }
        process["terminal"] = false
        process["args"] = ["/bin/sh", "-c", script]
        config["process"] = process
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
    }

    /// Starts the container detached; its output goes nowhere.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Command.which("runc")!)
        process.arguments = ["run", "--detach", "--bundle", bundle.path, id]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw RuncError.failed("runc run", "exit \(process.terminationStatus)") }
        started = true
    }

    /// `runc state`: the container's id, pid and status as the runtime reports them.
    public func state() throws -> [String: Any] {
        let result = try Command.run(Command.which("runc")!, ["state", id])
        guard result.status == 0, let state = try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any] else {
            throw RuncError.failed("runc state", result.stderr)
        }
        return state
    }

    /// Waits (up to `timeout` seconds) for the container's process to end.
    public func waitUntilStopped(timeout: Double = 30) throws -> Bool {
        try Wait.until(seconds: timeout) { try state()["status"] as? String == "stopped" }
    }

    /// `runc exec -t ID /bin/sh` on a pseudo-terminal, typing `lines` one after another
    /// (as someone at a `kubectl exec -it` prompt would); returns what the terminal showed.
    public func execInteractive(_ lines: [String]) throws -> String {
        try Terminal.type(lines, into: [Command.which("runc")!, "exec", "-t", id, "/bin/sh"])
    }

    public func remove() {
        if started { _ = try? Command.run(Command.which("runc")!, ["delete", "--force", id]) }
        started = false
        try? FileManager.default.removeItem(at: bundle)
    }

    public enum RuncError: Error {
        case failed(String, String)
    }
}
