/// Why a Sigma rule was refused, with where in its file: every refusal names the
/// construct (a modifier, a condition form, a field a log source cannot supply), so that
/// `nodeaudit sigma check` can group a rule collection's refusals by reason.
package struct SigmaError: Error, CustomStringConvertible, Sendable, Equatable {
    package var file: String
    package var line: Int
    package var column: Int
    /// The reason's group, e.g. `modifier utf16le`, `field CommandLine in service auditd`.
    package var construct: String
    package var message: String

    package init(file: String = "", line: Int, column: Int, construct: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.construct = construct
        self.message = message
    }

    package var description: String { "\(file):\(line):\(column): \(message)" }
}
