import Foundation

/// A `nodeaudit run` started by a test: stdout and stderr go to files, `start` waits
/// until it reads the stream, `stop` signals it (by its pid) and waits for it to end.
public final class LiveRun {
    public let process = Process()
    private let directory: URL
    public let stdoutFile: URL
    public let stderrFile: URL

    /// `nodeaudit run` with `arguments`. `stdout`: a pipe the test reads (or leaves
    /// unread, to stall the output); by default events go to a file read by `events()`.
    public convenience init(_ arguments: [String], stdout pipe: Pipe? = nil) throws {
        let directory = try Self.makeDirectory()
        // Each run its own state directory unless the test shares one between runs: a gap
        // since another test's run is not this test's business.
        let state = arguments.contains("--state-directory") ? [] : ["--state-directory", directory.appendingPathComponent("state").path]
        try self.init(directory: directory, executable: NodeAuditBinary.path, arguments: ["run"] + arguments + state, stdout: pipe)
    }

    /// Another command whose stdout carries nodeaudit's events, such as the `podman run`
    /// of its image.
    public convenience init(executable: String, arguments: [String]) throws {
        try self.init(directory: try Self.makeDirectory(), executable: executable, arguments: arguments, stdout: nil)
    }

    private init(directory: URL, executable: String, arguments: [String], stdout pipe: Pipe?) throws {
        self.directory = directory
        stdoutFile = directory.appendingPathComponent("events.jsonl")
        stderrFile = directory.appendingPathComponent("stderr.txt")
        _ = FileManager.default.createFile(atPath: stdoutFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = Fixtures.repositoryRoot
        if let pipe {
            process.standardOutput = pipe
        } else {
            process.standardOutput = try FileHandle(forWritingTo: stdoutFile)
        }
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        process.standardInput = FileHandle.nullDevice
    }

    private static func makeDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-live-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Starts it and waits (up to `timeout` seconds) until it says it is reading (or, when
    /// given, until `ready` holds). Returns false when it exited or never got there.
    public func start(timeout: Double = 20, ready: (() -> Bool)? = nil) throws -> Bool {
        let isReady = ready ?? { self.stderr.contains("nodeaudit: reading ") }
        try process.run()
        return Wait.until(seconds: timeout) { isReady() || !process.isRunning } && isReady()
    }

    /// Sends `signal` and waits for the process to end; returns its exit status. One that
    /// ignores the signal for 30 s is killed and reported as status -1.
    @discardableResult
    public func stop(signal: Int32 = SIGTERM) -> Int32 {
        if process.isRunning { kill(process.processIdentifier, signal) }
        guard Wait.until(seconds: 30, { !process.isRunning }) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            return -1
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs `work` with nodeaudit stopped (SIGSTOP), `late`, and continues it after: all
    /// that `work` did is read once it is over, as a busy node reads, and every process it
    /// started is gone by then. The kernel keeps the records in the socket's buffer.
    public func reading<T>(late: Bool, _ work: () throws -> T) rethrows -> T {
        guard late else { return try work() }
        kill(process.processIdentifier, SIGSTOP)
        defer { kill(process.processIdentifier, SIGCONT) }
        return try work()
    }

    public var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    /// What to show of stderr when a run went wrong: a crash report from its first line
    /// (the faulting frames come first; the last 3,000 characters were only the bottom of
    /// the stack), else the end.
    public var stderrForFailure: String {
        let text = stderr
        if let crash = text.range(of: "crashed") ?? text.range(of: "Fatal error") {
            let start = text[..<crash.lowerBound].lastIndex(of: "\n").map { text.index(after: $0) } ?? text.startIndex
            return String(text[start...].prefix(5000))
        }
        return String(text.suffix(3000))
    }

    /// Waits until every event the kernel logged before this call has been written to
    /// stdout (the events file): it execs `/bin/true` with a fresh word and waits for that
    /// exec's event. The kernel delivers records in order and nodeaudit writes events in
    /// the order they complete, so what came before is out by then. Needs a rule that
    /// logs execs (the default rules do) and events in `file` (by default stdout's).
    /// The marker is exec'd again each second it is not seen, in case the kernel or a
    /// full receive buffer lost it (a test of such losses still gets its barrier).
    /// `executable` is another program to exec, for a run whose filters drop /bin/true.
    public func barrier(in file: URL? = nil, seconds: Double = 60, executable: String = "/bin/true") throws -> Bool {
        let path = (file ?? stdoutFile).path
        let word = "nodeaudit-barrier-\(UUID().uuidString.prefix(8).lowercased())"
        let needle = Data(word.utf8)
        var scanned = 0
        var lastExec = Date.distantPast
        return try Wait.until(seconds: seconds) {
            if Date().timeIntervalSince(lastExec) >= 1 {
                let marker = Process()
                marker.executableURL = URL(fileURLWithPath: executable)
                marker.arguments = [word]
                try marker.run()
                marker.waitUntilExit()
                lastExec = Date()
            }
            guard let handle = FileHandle(forReadingAtPath: path) else { return false }
            defer { try? handle.close() }
            let size = try handle.seekToEnd()
            if size < UInt64(scanned) { scanned = 0 }  // rotated
            let from = max(0, scanned - needle.count)
            try handle.seek(toOffset: UInt64(from))
            let data = try handle.readToEnd() ?? Data()
            scanned = from + data.count
            return data.range(of: needle) != nil
        }
    }

    /// The value of `name=` in the newest statistics line on stderr (periodic or final).
    public func counter(_ name: String) -> Int? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.contains("nodeaudit: stats: ") || $0.contains("nodeaudit: final: ") }) else {
            return nil
        }
        return Self.value(of: name, in: line)
    }

    /// The events written so far: whole lines only (the run may be writing the last one
    /// while a test reads; once it stopped, every line is whole).
    public func events() throws -> [[String: Any]] {
        try Command.completeJSONLines(try Data(contentsOf: stdoutFile))
    }

    /// The value of `name=` in the final statistics line.
    public func finalCounter(_ name: String) -> Int? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.contains("nodeaudit: final: ") }) else { return nil }
        return Self.value(of: name, in: line)
    }

    private static func value(of name: String, in line: Substring) -> Int? {
        for word in line.split(separator: " ") where word.hasPrefix(name + "=") {
            return Int(word.dropFirst(name.count + 1))
        }
        return nil
    }
}
