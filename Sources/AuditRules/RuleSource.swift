/// Where a rule came from, so every error and every planned change can name it.
package struct RuleSource: Sendable, Equatable, CustomStringConvertible {
    package var file: String
    package var line: Int
    /// The line as written (comments and surrounding blanks removed).
    package var text: String

    package init(file: String, line: Int, text: String) {
        self.file = file
        self.line = line
        self.text = text
    }

    /// `FILE:LINE`, or `FILE` for what concerns a file or directory as a whole (line 0).
    package var description: String { line > 0 ? "\(file):\(line)" : file }
}

/// A rule that cannot be used, with its location: `file:line: what is wrong`.
package struct RuleError: Error, Sendable, Equatable, CustomStringConvertible {
    package var source: RuleSource
    package var message: String
    /// The line is right but this host lacks what it names (a user or group, a syscall,
    /// a watched path's directory): under `-i` or `-c` it is skipped with a warning.
    package var dependsOnHost: Bool

    package init(_ source: RuleSource, _ message: String, dependsOnHost: Bool = false) {
        self.source = source
        self.message = message
        self.dependsOnHost = dependsOnHost
    }

    package var description: String { "\(source): \(message)" }
}
