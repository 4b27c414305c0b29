/// Why a Sigma rule was refused, with where in its file: every refusal names the
/// construct (a modifier, a condition form, a field a log source cannot supply), so that
/// `nodeaudit sigma check` can group a rule collection's refusals by reason.
public struct SigmaError: Error, CustomStringConvertible, Sendable, Equatable {
    public var file: String
    public var line: Int
    public var column: Int
    /// The reason's group, e.g. `modifier utf16le`, `field CommandLine in service auditd`.
    public var construct: String
    public var message: String

    public init(file: String = "", line: Int, column: Int, construct: String, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.construct = construct
        self.message = message
    }

    public var description: String { "\(file):\(line):\(column): \(message)" }
}
