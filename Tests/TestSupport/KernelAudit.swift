import Foundation

/// Access to the real kernel audit subsystem for tests, and the discipline around it:
/// tests that change the kernel take a `KernelAudit.Snapshot` first and restore it after,
/// so rules, the enabled flag and the backlog settings are as they were.
public enum KernelAudit {
    /// Whether this process can control kernel audit: root, a kernel whose audit
    /// subsystem answers a status request (asked through nodeaudit itself, so that a
    /// missing reference tool fails the tests instead of skipping them), and an audit
    /// configuration that is not locked until reboot (`enabled 2`: then no rule or
    /// setting can change, and no test can do its work or restore what it changed). On
    /// this project's machines it can; elsewhere the kernel tests are skipped, saying why.
    public static let isAvailable: Bool = {
        guard geteuid() == 0, let status = try? NodeAuditBinary.run("status", "--json"), status.status == 0,
              let values = try? JSONSerialization.jsonObject(with: status.stdout) as? [String: Any] else { return false }
        return values["enabled"] as? Int != 2
    }()

    public static func auditctl(_ arguments: String...) throws -> Command.Result {
        try auditctl(arguments)
    }

    /// Runs auditctl, but never one that would lock the audit configuration until reboot
    /// (`-e 2`, `--loginuid-immutable`, or `-R` of a file with either): the machine is
    /// shared, and nothing could restore it.
    public static func auditctl(_ arguments: [String]) throws -> Command.Result {
        if locks(arguments) || zip(arguments, arguments.dropFirst()).contains(where: { $0 == "-R" && ((try? locksKernel(file: $1)) ?? true) }) {
            throw LockRefused(arguments: arguments)
        }
        return try Command.run(try ReferenceTools.path("auditctl", package: "auditd"), arguments)
    }

    /// A test tried to lock the kernel's audit configuration until reboot.
    public struct LockRefused: Error, CustomStringConvertible {
        public let arguments: [String]
        public var description: String { "refused: auditctl \(arguments.joined(separator: " ")) would lock audit until reboot" }
    }

    /// Whether a rule file holds a line that locks audit until reboot (`-e 2`,
    /// `--loginuid-immutable`); such a file is never loaded by a test.
    public static func locksKernel(file: String) throws -> Bool {
        try Fixtures.lines(ofFile: file).contains { line in
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = words.first, !first.hasPrefix("#") else { return false }
            return locks(words)
        }
    }

    /// `--loginuid-immutable`, or `-e` with 2 in any spelling auditctl reads (`-e 2`, `-e2`,
    /// `-e 0x2`, `-e 02`).
    private static func locks(_ words: [String]) -> Bool {
        func isTwo(_ text: Substring) -> Bool {
            let lowered = text.lowercased()
            let value = lowered.hasPrefix("0x") ? Int(lowered.dropFirst(2), radix: 16) : Int(lowered)
            return value == 2
        }
        return words.enumerated().contains { index, word in
            if word.hasPrefix("--loginuid-immutable") { return true }
            if word == "-e" { return index + 1 < words.count && isTwo(Substring(words[index + 1])) }
            return word.hasPrefix("-e") && isTwo(word.dropFirst(2))
        }
    }

    /// The kernel's rules as `auditctl -l` prints them (empty for none).
    public static func listing() throws -> [String] {
        let lines = try auditctl("-l").stdoutText.split(separator: "\n").map(String.init)
        return lines == ["No rules"] ? [] : lines
    }

    /// `auditctl -s` as name → value.
    public static func status() throws -> [String: String] {
        var values: [String: String] = [:]
        for line in try auditctl("-s").stdoutText.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }

    /// What a test may change, to be put back afterwards.
    public struct Snapshot {
        public let rules: [String]
        public let status: [String: String]

        public static func take() throws -> Snapshot {
            let status = try KernelAudit.status()
            guard status["enabled"] != "2" else { throw KernelAuditError.locked }
            return Snapshot(rules: try KernelAudit.listing(), status: status)
        }

        /// Restores rules, backlog limit, backlog wait time, failure, rate limit and the
        /// enabled flag.
        public func restore() throws {
            _ = try KernelAudit.auditctl("-D")
            if !rules.isEmpty {
                let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-restore-\(getpid()).rules")
                try (rules.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
                defer { try? FileManager.default.removeItem(at: file) }
                _ = try KernelAudit.auditctl("-R", file.path)
            }
            for (option, name) in [("-b", "backlog_limit"), ("--backlog_wait_time", "backlog_wait_time"),
                                   ("-f", "failure"), ("-r", "rate_limit")] {
                if let value = status[name] { _ = try KernelAudit.auditctl(option, value) }
            }
            if let enabled = status["enabled"], enabled == "0" || enabled == "1" { _ = try KernelAudit.auditctl("-e", enabled) }
        }
    }

    public enum KernelAuditError: Error, CustomStringConvertible {
        case locked
        public var description: String { "kernel audit is locked (enabled 2); no test may change it" }
    }
}

/// The nodeaudit executable built beside the test bundle.
public enum NodeAuditBinary {
    public static var path: String {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("nodeaudit").path
    }

    public static func run(_ arguments: String...) throws -> Command.Result {
        try run(arguments)
    }

    /// The state directory of the nodeaudit commands a test process runs (the record of
    /// the rules they loaded), so that no test writes the node's own record.
    public static let stateDirectory = FileManager.default.temporaryDirectory
        .appendingPathComponent("nodeaudit-test-state-\(getpid())").path

    /// Runs nodeaudit, never with `--allow-immutable`: without it nodeaudit refuses to
    /// lock audit until reboot, and no test may lift that.
    public static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Command.Result {
        if arguments.contains("--allow-immutable") { throw KernelAudit.LockRefused(arguments: arguments) }
        return try Command.run(path, arguments, environment: environment.merging(["NODEAUDIT_STATE_DIRECTORY": stateDirectory]) { given, _ in given })
    }
}
