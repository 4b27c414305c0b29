import Foundation

/// A `nodeaudit run` started by a test: stdout and stderr go to files, `start` waits
/// until it reads the stream, `stop` signals it (by its pid) and waits for it to end.
public final class LiveRun {
    public let process = Process()
    private let directory: URL
    public let stdoutFile: URL
    public let stderrFile: URL

    /// `stdout`: a pipe the test reads (or leaves unread, to stall the output); by default
    /// events go to a file read by `events()`.
    public init(_ arguments: [String], stdout pipe: Pipe? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stdoutFile = directory.appendingPathComponent("events.jsonl")
        stderrFile = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: NodeAuditBinary.path)
        process.arguments = ["run"] + arguments
        process.currentDirectoryURL = Fixtures.repositoryRoot
        if let pipe {
            process.standardOutput = pipe
        } else {
            process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        }
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardInput = FileHandle.nullDevice
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts it and waits (up to `timeout` seconds) until it says it is reading.
    /// Returns false when it exited or never got there.
    public func start(timeout: Double = 20) throws -> Bool {
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if stderr.contains("nodeaudit: reading ") { return true }
            if !process.isRunning { return false }
            usleep(50_000)
        }
        return false
    }

    /// Sends `signal` and waits for the process to end; returns its exit status. One that
    /// ignores the signal for 30 s is killed and reported as status -1.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        let deadline = Date().addingTimeInterval(30)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        guard !process.isRunning else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    public var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// The events written so far.
    public func events() throws -> [[String: Any]] {
        try Command.jsonLines(try Data(contentsOf: stdoutFile))
    }

    /// The value of `name=` in the final statistics line.
    public func finalCounter(_ name: String) -> Int? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.contains("nodeaudit: final: ") }) else { return nil }
        for word in line.split(separator: " ") where word.hasPrefix(name + "=") {
            return Int(word.dropFirst(name.count + 1))
        }
        return nil
    }
}
