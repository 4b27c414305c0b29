import AuditEvents

/// A Sigma rule compiled for nodeaudit's events: its identity and metadata as a match
/// reports them, its log source, and its detection as searches and a condition over them.
/// A class: rules are read for every event and never change, so they are shared, not copied.
package final class SigmaRule: Sendable {
    package let id: String
    /// The rule's `name`, by which correlation rules may refer to it.
    package let name: String?
    package let title: String
    package let level: Detection.Level
    package let tags: [String]
    package let status: String?
    package let logSource: SigmaLogSource
    /// Where the rule is: the file and the line of its document.
    package let file: String
    package let line: Int
    let searches: [SigmaSearch]
    let condition: SigmaCondition

    init(id: String, name: String?, title: String, level: Detection.Level, tags: [String], status: String?, logSource: SigmaLogSource,
         file: String, line: Int, searches: [SigmaSearch], condition: SigmaCondition) {
        self.id = id
        self.name = name
        self.title = title
        self.level = level
        self.tags = tags
        self.status = status
        self.logSource = logSource
        self.file = file
        self.line = line
        self.searches = searches
        self.condition = condition
    }

    /// Whether the event is a match.
    package func matches(_ event: some SigmaEvent) -> Bool {
        condition.evaluate(searches, event)
    }
}

extension SigmaRule {
    /// What an event that matched carries of the rule.
    package var detection: Detection { Detection(id: id, title: title, level: level, tags: tags) }
}
