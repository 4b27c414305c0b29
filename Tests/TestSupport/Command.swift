import Foundation

/// Runs a reference tool (laurel, python3 with libauparse, the nodeaudit binary) and
/// collects its output, for tests that compare nodeaudit with its peers.
public struct Command {
    public struct Result {
        public var status: Int32
        public var stdout: Data
        public var stderr: String
        public var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
    }

    public static func which(_ name: String) -> String? {
        for dir in ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
            let path = dir + "/" + name
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }

    /// Copies a program for a test to run: by `cp`, so that no descriptor of this process
    /// is ever open for writing on the copy. Copied in the test process, the copy's
    /// descriptor leaked into a child another test forked meanwhile, and running the copy
    /// failed with ETXTBSY ("Text file busy") until that child exec'd.
    public static func copyExecutable(_ source: String, to destination: String) throws {
        let copy = try run("/bin/cp", [source, destination])
        guard copy.status == 0 else { throw CommandError.failed("cp \(source) \(destination): \(copy.stderr)") }
    }

    /// Runs `executable` with `arguments`, feeding `stdinFile` when given, in `directory`
    /// (by default the test's own working directory), with `environment` added to the test's.
    public static func run(_ executable: String, _ arguments: [String], stdinFile: String? = nil,
                           in directory: String? = nil, environment: [String: String] = [:]) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { _, added in added }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        if let stdinFile {
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: stdinFile))
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        try process.run()
        // Read both pipes concurrently with the process so neither fills up.
        nonisolated(unsafe) var errData = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, stdout: outData, stderr: String(decoding: errData, as: UTF8.self))
    }

    /// The JSON objects of the complete lines of a file another process is still writing:
    /// a last line without its newline is not there yet.
    public static func completeJSONLines(_ data: Data) throws -> [[String: Any]] {
        guard let end = data.lastIndex(of: UInt8(ascii: "\n")) else { return [] }
        return try jsonLines(data[data.startIndex..<end])
    }

    /// The JSON objects of a JSON-lines output.
    public static func jsonLines(_ data: Data) throws -> [[String: Any]] {
        try data.split(separator: UInt8(ascii: "\n")).map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any] else {
                throw CommandError.notAnObject(String(decoding: line.prefix(200), as: UTF8.self))
            }
            return object
        }
    }

    public enum CommandError: Error {
        case notAnObject(String)
        case failed(String)
    }
}

extension Process {
    /// Starts the process with SIGINT and SIGTERM unblocked. The test runner's threads
    /// block them and a child inherits that mask, which would leave a daemon started by
    /// a test (auditd, a load generator) deaf to the SIGTERM that should end it.
    public func runWithStopSignalsUnblocked() throws {
        var stopSignals = sigset_t()
        var previous = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &stopSignals, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try run()
    }
}
