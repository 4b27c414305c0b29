import Foundation

/// `Tests/Fixtures/container-actor.c`, built static for the test that needs it: a process
/// in a busybox container that sends a user-space audit message, or a fake `runc` outside
/// every trusted path.
public enum ContainerActor {
    public static var isAvailable: Bool { Command.which("cc") != nil }

    /// Builds the program to `path` (its name decides what it does: `runc` is the fake runtime).
    public static func build(to path: String) throws {
        let source = Fixtures.fixtureFile("container-actor.c")
        let built = try Command.run(Command.which("cc")!, ["-static", "-O1", "-o", path, source])
        guard built.status == 0 else { throw ActorError.buildFailed(built.stderr) }
    }

    public enum ActorError: Error {
        case buildFailed(String)
    }
}

/// Busy loops at the lowest priority (`nice -n 19`) on every CPU, so that a test sees
/// what a loaded node does to timing; `stop()` ends exactly the loops it started.
public final class CPUHogs {
    private var processes: [Process] = []

    public init(count: Int = ProcessInfo.processInfo.activeProcessorCount) throws {
        for _ in 0..<count {
            let hog = Process()
            hog.executableURL = URL(fileURLWithPath: "/usr/bin/nice")
            hog.arguments = ["-n", "19", "/bin/sh", "-c", "while :; do :; done"]
            hog.standardInput = FileHandle.nullDevice
            hog.standardOutput = FileHandle.nullDevice
            try hog.run()
            processes.append(hog)
        }
    }

    deinit { stop() }

    public func stop() {
        for hog in processes where hog.isRunning { kill(hog.processIdentifier, SIGKILL) }
        processes.forEach { $0.waitUntilExit() }
        processes.removeAll()
    }
}
