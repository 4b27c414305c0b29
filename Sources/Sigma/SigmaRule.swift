import YAMLNodes

/// A Sigma rule compiled for nodeaudit's events: its identity and metadata as a match
/// reports them, its log source, and its detection as searches and a condition over them.
public struct SigmaRule: Sendable {
    public var id: String
    public var title: String
    public var level: SigmaLevel
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

/// Sigma's levels, ordered, so that a filter can ask `level>=high`.
public enum SigmaLevel: String, Sendable, Comparable, CaseIterable {
    case informational, low, medium, high, critical

    public static func < (a: SigmaLevel, b: SigmaLevel) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}
