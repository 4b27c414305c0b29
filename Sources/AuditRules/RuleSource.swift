/// Where a rule came from, so every error and every planned change can name it.
public struct RuleSource: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    /// The line as written (comments and surrounding blanks removed).
    public var text: String

    public init(file: String, line: Int, text: String) {
        self.file = file
        self.line = line
        self.text = text
    }

    /// `FILE:LINE`, or `FILE` for what concerns a file or directory as a whole (line 0).
    public var description: String { line > 0 ? "\(file):\(line)" : file }
}

/// A rule that cannot be used, with its location: `file:line: what is wrong`.
public struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    public var source: RuleSource
    public var message: String
    /// The line is right but this host lacks what it names (a user or group, a syscall,
    /// a watched path's directory): under `-i` or `-c` it is skipped with a warning.
    public var dependsOnHost: Bool

    public init(_ source: RuleSource, _ message: String, dependsOnHost: Bool = false) {
        self.source = source
        self.message = message
        self.dependsOnHost = dependsOnHost
    }

    public var description: String { "\(source): \(message)" }
}
