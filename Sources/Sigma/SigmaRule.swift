import AuditEvents

/// A Sigma rule compiled for nodeaudit's events: its identity and metadata as a match
/// reports them, its log source, and its detection as searches and a condition over them.
package struct SigmaRule: Sendable {
    package var id: String
    /// The rule's `name`, by which correlation rules may refer to it.
    package var name: String?
    package var title: String
    package var level: Detection.Level
    package var tags: [String]
    package var status: String?
    package var logSource: SigmaLogSource
    /// Where the rule is: the file and the line of its document.
    package var file: String
    package var line: Int
    let searches: [SigmaSearch]
    let condition: SigmaCondition

    /// Whether the event is a match.
    package func matches(_ event: some SigmaEvent) -> Bool {
        condition.evaluate(searches, event)
    }
}

extension SigmaRule {
    /// What an event that matched carries of the rule.
    package var detection: Detection { Detection(id: id, title: title, level: level, tags: tags) }
}
