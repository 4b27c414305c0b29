import AuditRecords

/// Drops or keeps events by what they say, after enrichment: the noise kernel rules
/// cannot name (a container, a pod, a namespace, a user's name) or that an operator
/// wants to try out before writing a rule.
///
/// Kernel rules stay the first filter: what they exclude costs nothing, while an event
/// dropped here was still read, correlated and enriched.
///
/// Written as `ACTION CONDITION…`: `drop exe=/usr/bin/true`,
/// `keep key=identity`, `drop namespace=kube-system comm=kube-probe*`, `drop all`.
/// An event matches a filter when every condition holds; a value ending in `*` matches
/// every value starting with what comes before it. The first filter an event matches
/// decides; an event no filter matches is kept.
public struct EventFilter: Sendable, Equatable, CustomStringConvertible {
    public enum Action: String, Sendable {
        case drop, keep
    }

    /// What a condition compares.
    public enum Field: String, Sendable, CaseIterable {
        case key, technique, label, exe, comm, argv, uid, auid, syscall, category, container, namespace, pod
        /// A detection rule the event matched, by id or title (`detection=*`: any).
        case detection
        /// The level of a detection: `level=high`, or `level>=high` for it or above.
        case level
    }

    public struct Condition: Sendable, Equatable {
        public var field: Field
        /// The value as written, without a trailing `*`.
        public var value: [UInt8]
        public var isPrefix: Bool
        /// `value` as a number, for uid and auid (`unset` is 4294967295).
        var number: UInt32?
        /// `value` as a level, for `level`; `atLeast` for `level>=`.
        var level: Detection.Level?
        var atLeast = false
    }

    public let action: Action
    /// Empty for `all`.
    public let conditions: [Condition]
    /// As written, for messages and the counter's label.
    public let description: String

    public static func == (a: EventFilter, b: EventFilter) -> Bool { a.description == b.description }

    /// The filter `text` writes; throws a message saying what is wrong with it.
    public static func parse(_ text: String) throws(FilterSyntaxError) -> EventFilter {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let first = words.first, let action = Action(rawValue: String(first)) else {
            throw FilterSyntaxError("'\(text)': a filter starts with drop or keep")
        }
        let rest = words.dropFirst()
        if rest.count == 1, rest.first == "all" {
            return EventFilter(action: action, conditions: [], description: words.joined(separator: " "))
        }
        guard !rest.isEmpty else {
            throw FilterSyntaxError("'\(text)': \(action) what? Give FIELD=VALUE conditions, or all")
        }
        return EventFilter(action: action, conditions: try Condition.parse(rest, in: text), description: words.joined(separator: " "))
    }

    /// Whether every condition holds for `event`.
    public func matches(_ event: AuditEvent) -> Bool {
        conditions.allSatisfy { $0.holds(for: event) }
    }
}

extension EventFilter.Condition {
    /// `FIELD=VALUE` words, all of which must hold; `text` is the whole line, for messages.
    public static func parse(_ words: some Sequence<Substring>, in text: String) throws(FilterSyntaxError) -> [Self] {
        var conditions: [Self] = []
        for word in words {
            // `level>=high`: the one condition written with a comparison.
            let atLeast = word.hasPrefix("level>=")
            let word = atLeast ? "level" + word.dropFirst("level>".count) : word
            guard let equals = word.firstIndex(of: "="), let field = EventFilter.Field(rawValue: String(word[..<equals])) else {
                throw FilterSyntaxError(
                    "'\(text)': '\(word)' is not FIELD=VALUE with a field of " + EventFilter.Field.allCases.map(\.rawValue).joined(separator: ", "))
            }
            var value = Array(word[word.index(after: equals)...].utf8)
            let isPrefix = value.last == UInt8(ascii: "*")
            if isPrefix { value.removeLast() }
            guard !value.isEmpty || isPrefix else {
                throw FilterSyntaxError("'\(text)': \(field) has no value (use \(field)=* for any)")
            }
            var number: UInt32?
            if field == .uid || field == .auid {
                guard !isPrefix, let id = value == Array("unset".utf8) ? Identity.unset : UInt32(String(decoding: value, as: UTF8.self)) else {
                    throw FilterSyntaxError("'\(text)': \(field) takes a number (or unset), not '\(String(decoding: value, as: UTF8.self))'")
                }
                number = id
            }
            var level: Detection.Level?
            if field == .level {
                guard !isPrefix, let parsed = Detection.Level(rawValue: String(decoding: value, as: UTF8.self)) else {
                    throw FilterSyntaxError("'\(text)': level is one of \(Detection.Level.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                level = parsed
            }
            conditions.append(Self(field: field, value: value, isPrefix: isPrefix, number: number, level: level, atLeast: atLeast))
        }
        return conditions
    }

    func holds(for event: AuditEvent) -> Bool {
        switch field {
        case .key: return event.keys.contains { accepts(event.text[$0]) }
        case .technique:
            return event.keys.contains { key in
                event.text[key].withUnsafeBufferPointer { keyText in
                    var found = false
                    AttackTechniques.forEach(in: keyText) { if !found, accepts(keyText[$0]) { found = true } }
                    return found
                }
            }
        case .label: return event.labels.contains { accepts($0.utf8) }
        case .exe: return event.bytes(event.process?.exe).map(accepts) ?? false
        case .comm: return event.bytes(event.process?.comm).map(accepts) ?? false
        // Any one argument of an exec: `argv=--privileged`, `argv=/opt/deploy/*`.
        case .argv: return event.exec?.argv.contains { accepts(event.text[$0]) } ?? false
        case .uid: return event.process?[.uid]?.id == number
        case .auid: return event.process?[.auid]?.id == number
        case .syscall: return event.syscall?.name.map { accepts($0.utf8) } ?? false
        case .category: return accepts(event.category.rawValue.utf8)
        case .container:
            guard let container = event.workload?.container else { return false }
            return accepts(container.id.utf8) || container.name.map { accepts($0.utf8) } ?? false
        case .namespace: return event.workload?.pod?.namespace.map { accepts($0.utf8) } ?? false
        case .pod: return event.workload?.pod?.name.map { accepts($0.utf8) } ?? false
        case .detection: return event.detections.contains { accepts($0.id.utf8) || accepts($0.title.utf8) }
        case .level:
            guard let level else { return false }
            return event.detections.contains { atLeast ? $0.level >= level : $0.level == level }
        }
    }

    /// Compares in place: strings' UTF-8 views and the event's bytes are not copied.
    private func accepts(_ bytes: some Sequence<UInt8>) -> Bool {
        isPrefix ? bytes.starts(with: value) : bytes.elementsEqual(value)
    }
}

/// A filter that could not be read, said with the filter.
public struct FilterSyntaxError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// The configured filters in order, with what each dropped: the first an event matches
/// decides, and every drop is counted under the filter that made it.
public struct EventFilterChain: Sendable {
    public let filters: [EventFilter]
    /// Events each filter dropped, by position in `filters`.
    public private(set) var dropped: [UInt64]

    public init(_ filters: [EventFilter]) {
        self.filters = filters
        dropped = Array(repeating: 0, count: filters.count)
    }

    /// `filters` in place of a previous chain's (a reload): a filter written as before
    /// keeps its count, so its counter in /metrics never goes back.
    public init(_ filters: [EventFilter], replacing previous: EventFilterChain) {
        self.init(filters)
        for index in filters.indices {
            if let old = previous.filters.firstIndex(of: filters[index]) { dropped[index] = previous.dropped[old] }
        }
    }

    public var isEmpty: Bool { filters.isEmpty }

    /// Whether `event` is to be written; counts it when a filter drops it.
    public mutating func keeps(_ event: AuditEvent) -> Bool {
        for index in filters.indices where filters[index].matches(event) {
            if filters[index].action == .keep { return true }
            dropped[index] += 1
            return false
        }
        return true
    }
}
