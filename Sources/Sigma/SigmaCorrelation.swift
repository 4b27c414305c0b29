import AuditEvents
import YAMLNodes

/// A Sigma correlation rule within one node: `event_count` (N matches of its rules in a
/// timespan, per group) or `temporal` (each of its rules matched within a timespan, per
/// group; `temporal_ordered`: in the order listed). Its state is bounded: at most
/// `maxGroups` groups, the least recently seen forgotten first, and for `event_count` at
/// most the threshold's number of times per group.
package struct SigmaCorrelation: Sendable {
    package enum Kind: Sendable, Equatable {
        /// Fires when a group reaches `threshold` matches within the timespan.
        case eventCount(threshold: Int)
        case temporal(ordered: Bool)
    }

    package static let maxGroups = 10_000

    package var id: String
    package var title: String
    package var level: Detection.Level
    package var tags: [String]
    package var file: String
    package var line: Int
    let kind: Kind
    /// The rules as the correlation names them (`name` or `id`), in order.
    let references: [String]
    /// Where each reference was written, for a refusal.
    let referenceMark: YAMLMark
    let groupBy: [String]
    let timespanMilliseconds: UInt64
    /// Whether the referenced rules' own matches are reported too (`generate: true`).
    let generate: Bool

    package var detection: Detection { Detection(id: id, title: title, level: level, tags: tags) }

    /// Reads a correlation document (its `correlation` mapping at `node`).
    static func parse(_ entries: [(key: YAMLNode, value: YAMLNode)], correlation node: YAMLNode, title: String, file: String,
                      line: Int, refuse: (YAMLNode, String, String) -> SigmaError) throws(SigmaError) -> SigmaCorrelation {
        guard let fields = node.mapping else { throw refuse(node, "correlation shape", "`correlation` is a mapping") }
        func value(_ key: String) -> YAMLNode? { fields.first { $0.key.string == key }?.value }
        func top(_ key: String) -> YAMLNode? { entries.first { $0.key.string == key }?.value }
        guard let typeNode = value("type"), let type = typeNode.string else { throw refuse(node, "correlation shape", "a correlation needs a `type`") }
        guard let rulesNode = value("rules"), let references = (rulesNode.sequence?.compactMap(\.string) ?? rulesNode.string.map { [$0] }),
              !references.isEmpty else {
            throw refuse(node, "correlation shape", "a correlation names its `rules`")
        }
        guard let spanNode = value("timespan"), let span = spanNode.string, let milliseconds = Self.milliseconds(span) else {
            throw refuse(value("timespan") ?? node, "correlation timespan", "`timespan` is a number and s, m, h or d (60s, 5m)")
        }
        let groupBy = value("group-by").map { $0.sequence?.compactMap(\.string) ?? $0.string.map { [$0] } ?? [] } ?? []
        let kind: Kind
        switch type {
        case "event_count":
            guard let condition = value("condition")?.mapping, condition.count == 1, let operation = condition[0].key.string,
                  let threshold = condition[0].value.string.flatMap(Int.init), threshold >= 1 else {
                throw refuse(value("condition") ?? node, "correlation condition", "event_count wants `condition: {gte: N}` (or gt, eq)")
            }
            switch operation {
            case "gte", "eq": kind = .eventCount(threshold: threshold)
            case "gt": kind = .eventCount(threshold: threshold + 1)
            default:
                throw refuse(condition[0].key, "correlation condition \(operation)",
                             "`\(operation)` cannot fire as events arrive; event_count takes gte, gt or eq")
            }
        case "temporal": kind = .temporal(ordered: false)
        case "temporal_ordered": kind = .temporal(ordered: true)
        default:
            throw refuse(typeNode, "correlation \(type)", "the correlation type `\(type)` is not supported (event_count, temporal, temporal_ordered)")
        }
        var level = Detection.Level.medium
        if let text = top("level")?.string {
            guard let parsed = Detection.Level(rawValue: text) else { throw refuse(top("level")!, "level", "`level` is one of \(Detection.Level.allCases.map(\.rawValue).joined(separator: ", "))") }
            level = parsed
        }
        return SigmaCorrelation(
            id: top("id")?.string ?? "", title: title, level: level, tags: top("tags")?.sequence?.compactMap(\.string) ?? [], file: file,
            line: line, kind: kind, references: references, referenceMark: rulesNode.mark, groupBy: groupBy,
            timespanMilliseconds: milliseconds, generate: value("generate")?.string == "true")
    }

    /// `30s`, `5m`, `1h`, `2d` in milliseconds; nil for anything else.
    static func milliseconds(_ text: String) -> UInt64? {
        guard let unit = text.last, let number = UInt64(text.dropLast()), number > 0, number <= 366 * 86_400 else { return nil }
        switch unit {
        case "s": return number * 1000
        case "m": return number * 60_000
        case "h": return number * 3_600_000
        case "d": return number * 86_400_000
        default: return nil
        }
    }
}

/// A correlation's rules resolved to rule numbers and its groups' state, on the
/// detector's thread.
final class CorrelationState {
    let correlation: SigmaCorrelation
    /// The rule numbers, in the correlation's order.
    let rules: [Int]
    /// Per rule of `rules`, the group-by fields' numbers in that rule's log source.
    let groupFields: [[Int]]
    private struct Group {
        /// event_count: the times of the matches within the timespan (oldest first).
        var times: [UInt64] = []
        /// temporal: when each rule last matched.
        var lastMatch: [UInt64?]
        var lastSeen: UInt64
    }
    private var groups: [String: Group] = [:]
    private(set) var forgottenGroups: UInt64 = 0

    init(_ correlation: SigmaCorrelation, rules: [Int], groupFields: [[Int]]) {
        self.correlation = correlation
        self.rules = rules
        self.groupFields = groupFields
    }

    /// Records that rule `position` (of `rules`) matched at `time` in the group `key`;
    /// true when the correlation fires (the group then starts over).
    func record(position: Int, key: String, time: UInt64) -> Bool {
        if groups[key] == nil, groups.count >= SigmaCorrelation.maxGroups { forgetOldest() }
        var group = groups[key] ?? Group(lastMatch: Array(repeating: nil, count: rules.count), lastSeen: time)
        group.lastSeen = max(group.lastSeen, time)
        let span = correlation.timespanMilliseconds
        var fires = false
        switch correlation.kind {
        case .eventCount(let threshold):
            group.times.append(time)
            group.times.removeAll { $0 + span < time }
            if group.times.count > threshold { group.times.removeFirst(group.times.count - threshold) }
            fires = group.times.count >= threshold
        case .temporal(let ordered):
            // In order: a rule counts only after the one before it in the list.
            if !ordered || position == 0 || group.lastMatch[position - 1].map({ $0 + span >= time }) == true {
                group.lastMatch[position] = time
            }
            fires = group.lastMatch.allSatisfy { $0.map { $0 + span >= time } ?? false }
        }
        groups[key] = fires ? nil : group
        return fires
    }

    /// Forgets the eighth of the groups seen longest ago.
    private func forgetOldest() {
        let count = max(1, groups.count / 8)
        let cutoff = groups.values.map(\.lastSeen).sorted()[count - 1]
        for (key, group) in groups where group.lastSeen <= cutoff {
            groups[key] = nil
            forgottenGroups += 1
        }
    }

    var groupCount: Int { groups.count }
}
