import AuditEvents

/// A Sigma rule compiled for nodeaudit's events: its identity and metadata as a match
/// reports them, its log source, and its detection as searches and a condition over them.
public struct SigmaRule: Sendable {
    public var id: String
    public var title: String
    public var level: Detection.Level
    public var tags: [String]
    public var status: String?
    public var logSource: SigmaLogSource
    /// Where the rule is: the file and the line of its document.
    public var file: String
    public var line: Int
    let searches: [SigmaSearch]
    let condition: SigmaCondition

    /// Whether the event is a match.
    public func matches(_ event: some SigmaEvent) -> Bool {
        condition.evaluate(searches, event)
    }
}

extension SigmaRule {
    /// What an event that matched carries of the rule.
    public var detection: Detection { Detection(id: id, title: title, level: level, tags: tags) }
}
