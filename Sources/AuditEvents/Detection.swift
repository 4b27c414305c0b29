/// A detection rule an event matched (a Sigma rule evaluated on the node): what a reader
/// of the event needs to act on it without the rule file at hand.
public struct Detection: Sendable, Equatable {
    /// Sigma's levels, ordered, so that a filter can ask `level>=high`.
    public enum Level: String, Sendable, Comparable, CaseIterable {
        case informational, low, medium, high, critical

        public static func < (a: Level, b: Level) -> Bool {
            allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
        }
    }

    public var id: String
    public var title: String
    public var level: Level
    public var tags: [String]

    public init(id: String, title: String, level: Level, tags: [String]) {
        self.id = id
        self.title = title
        self.level = level
        self.tags = tags
    }
}
