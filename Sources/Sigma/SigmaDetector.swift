import AuditEvents
import AuditRecords

/// The loaded Sigma rules, compiled once into a matcher that does not try every rule on
/// every event: rules are filed by log source (an event is asked only by the sources that
/// concern it: an exec by `process_creation`, a connect by `network_connection`…);
/// `service: auditd` rules that require a record `type`, `key` or `SYSCALL` value are filed
/// under it, so a record meets only the rules that name its type or key; and the others
/// by the literals they require (`LiteralIndex`).
package final class SigmaDetector: @unchecked Sendable {
    package let rules: [SigmaRule]
    private var bySource: [SigmaLogSource: LiteralIndex] = [:]
    /// auditd rules by an anchoring (field number, folded value); the rest by their literals.
    private var auditdAnchored: [Int: [[UInt8]: [Int]]] = [:]
    /// Rules anchored on a record type, by the type's number: no text compared per record.
    private var auditdByType: [UInt32: [Int]] = [:]
    private var auditdByLiteral = LiteralIndex()
    /// Matches so far, per rule (for /metrics).
    package private(set) var matches: [UInt64]
    /// Told every view of an event the rules read, whether or not a rule concerns it
    /// (`nodeaudit sigma fields`: what rules can match, and the oracle's tables).
    package var observer: ((_ eventID: String, _ source: SigmaLogSource, _ fields: [(name: String, values: [[UInt8]])]) -> Void)?

    /// Correlation rules, with their state.
    private let correlations: [CorrelationState]
    /// For each rule, the correlations that count its matches, and its place in each.
    private var correlationsByRule: [Int: [(state: CorrelationState, position: Int)]] = [:]
    /// Whether a rule's own matches are reported: not when only correlations without
    /// `generate: true` refer to it.
    private var reports: [Bool]
    /// Matches so far, per correlation.
    package private(set) var correlationMatches: [UInt64]

    /// `previous`: the rules these replace; a rule kept (same id and title) keeps its count.
    /// `correlations` refer to `rules` by name or id (`SigmaRuleSet` checked they do).
    package init(rules: [SigmaRule], correlations: [SigmaCorrelation] = [], replacing previous: SigmaDetector? = nil) {
        self.rules = rules
        matches = Array(repeating: 0, count: rules.count)
        reports = Array(repeating: true, count: rules.count)
        correlationMatches = Array(repeating: 0, count: correlations.count)
        self.correlations = correlations.map { correlation in
            let numbers = correlation.references.compactMap { reference in rules.firstIndex { $0.name == reference || $0.id == reference } }
            let fields = numbers.map { rule in correlation.groupBy.compactMap { SigmaFields.number(of: $0, in: rules[rule].logSource) } }
            return CorrelationState(correlation, rules: numbers, groupFields: fields)
        }
        var generated = Set<Int>()
        for state in self.correlations {
            for (position, rule) in state.rules.enumerated() {
                correlationsByRule[rule, default: []].append((state, position))
                reports[rule] = false
                if state.correlation.generate { generated.insert(rule) }
            }
        }
        for rule in generated { reports[rule] = true }
        if let previous {
            var counts: [String: UInt64] = [:]
            for (index, rule) in previous.rules.enumerated() { counts[rule.id + "\n" + rule.title, default: 0] += previous.matches[index] }
            for (index, rule) in rules.enumerated() { matches[index] = counts.removeValue(forKey: rule.id + "\n" + rule.title) ?? 0 }
        }
        for (index, rule) in rules.enumerated() {
            if rule.logSource == .auditd {
                // A literal in another field than `type` narrows more than the type does.
                let typeField = Self.typeField
                if let literals = rule.requiredLiterals, !literals.contains(where: { $0.field == typeField }) {
                    auditdByLiteral.add(rule, index: index)
                } else if let (field, values) = rule.anchor {
                    for value in values {
                        let typeName = Array(value.map { $0 &- 97 < 26 ? $0 - 32 : $0 })[...]
                        if field == typeField, let type = RecordType(name: typeName) {
                            auditdByType[type.number, default: []].append(index)
                        } else {
                            auditdAnchored[field, default: [:]][value, default: []].append(index)
                        }
                    }
                } else {
                    auditdByLiteral.add(rule, index: index)
                }
            } else {
                bySource[rule.logSource, default: LiteralIndex()].add(rule, index: index)
            }
        }
    }

    private static let typeField = SigmaFields.number(of: "type", in: .auditd)!

    /// Adds to `event.detections` every rule it matches, each once.
    package func detect(_ event: inout AuditEvent) {
        let (matched, fired) = withUnsafePointer(to: &event) { evaluate($0) }
        for index in matched {
            matches[index] += 1
            if reports[index], !event.detections.contains(where: { $0.id == rules[index].id && $0.title == rules[index].title }) {
                event.detections.append(rules[index].detection)
            }
        }
        for number in fired {
            correlationMatches[number] += 1
            event.detections.append(correlations[number].correlation.detection)
        }
    }

    /// The rules the event matches, and the correlations that fire, the event borrowed.
    private func evaluate(_ pointer: UnsafePointer<AuditEvent>) -> (matched: [Int], fired: [Int]) {
        var matched: [Int] = []
        let observing = observer != nil
        func wanted(_ source: SigmaLogSource) -> LiteralIndex? { bySource[source] ?? (observing ? LiteralIndex() : nil) }
        var fired: [Int] = []
        let time = pointer.pointee.key.stamp.epochMilliseconds
        /// `recordFields`: nil for every field of the index, else only the record's own
        /// (true) or only the event's (false).
        func literalCandidates(_ literals: LiteralIndex, _ view: EventFieldView, recordFields: Bool? = nil, into candidates: inout [Int]) {
            for field in literals.fields where recordFields.map({ $0 == EventField.isRecordField(field) }) ?? true {
                _ = view.anyValue(of: field) { value in
                    literals.candidates(field: field, value: value, into: &candidates)
                    return false
                }
            }
        }
        func evaluate(_ source: SigmaLogSource, _ literals: LiteralIndex, _ view: EventFieldView, also anchored: [Int] = [],
                      recordFieldsOnly: Bool = false) {
            if let observer { observer(pointer.pointee.id, source, view.fields(of: source)) }
            var candidates = (recordFieldsOnly ? [] : literals.open) + anchored
            literalCandidates(literals, view, recordFields: recordFieldsOnly ? true : nil, into: &candidates)
            for index in candidates where !matched.contains(index) && rules[index].matches(view) {
                matched.append(index)
                for (state, position) in correlationsByRule[index] ?? [] {
                    let key = Self.groupKey(state.groupFields[position], in: view)
                    if state.record(position: position, key: key, time: time), let number = correlations.firstIndex(where: { $0 === state }) {
                        fired.append(number)
                    }
                }
            }
        }
        let isExec = pointer.pointee.exec != nil && pointer.pointee.syscall?.success != false
        let text = pointer.pointee.text
        let commandLine = isExec && wanted(.processCreation) != nil ? Self.joined((pointer.pointee.exec?.argv ?? []).map { text[$0] }) : []
        let parentCommandLine = pointer.pointee.lineage?.parent.program.arguments.map { Self.joined(Array($0)) }
        if isExec, let candidates = wanted(.processCreation) {
            evaluate(.processCreation, candidates, EventFieldView(pointer, commandLine: commandLine, parentCommandLine: parentCommandLine, targetFilename: nil))
        }
        if let candidates = wanted(.networkConnection), Self.isConnection(pointer.pointee) {
            evaluate(.networkConnection, candidates, EventFieldView(pointer, commandLine: commandLine, parentCommandLine: parentCommandLine, targetFilename: nil))
        }
        if let candidates = wanted(.fileEvent), let target = Self.writtenFile(pointer.pointee) {
            evaluate(.fileEvent, candidates, EventFieldView(pointer, commandLine: commandLine, parentCommandLine: parentCommandLine, targetFilename: target))
        }
        if observing || !auditdAnchored.isEmpty || !auditdByType.isEmpty || !auditdByLiteral.isEmpty {
            var folded: [UInt8] = []
            /// The anchored rules `view`'s values name in the fields `only` allows.
            func anchored(in view: EventFieldView, recordFields: Bool) -> [Int] {
                var found: [Int] = []
                for (field, byValue) in auditdAnchored where (field == Self.typeField) == recordFields {
                    _ = view.anyValue(of: field) { value in
                        folded.removeAll(keepingCapacity: true)
                        folded.append(contentsOf: value.lazy.map(SigmaText.fold))
                        if let rules = byValue[folded] { found += rules }
                        return false
                    }
                }
                return found
            }
            // Keys and the syscall are the event's: looked up once, not per record.
            let eventView = EventFieldView(pointer, commandLine: commandLine, parentCommandLine: parentCommandLine, targetFilename: nil)
            // So are the literals of the event's fields, and the rules that need none.
            var byEvent = anchored(in: eventView, recordFields: false) + auditdByLiteral.open
            literalCandidates(auditdByLiteral, eventView, recordFields: false, into: &byEvent)
            for record in pointer.pointee.records {
                let view = EventFieldView(pointer, record: record, commandLine: commandLine, parentCommandLine: parentCommandLine, targetFilename: nil)
                var candidates = byEvent + (auditdByType[record.type.number] ?? [])
                if auditdAnchored[Self.typeField] != nil { candidates += anchored(in: view, recordFields: true) }
                evaluate(.auditd, auditdByLiteral, view, also: candidates, recordFieldsOnly: true)
            }
        }
        return (matched, fired)
    }

    /// A group's key: the first value of each group-by field (absent: empty), joined.
    private static func groupKey(_ fields: [Int], in view: EventFieldView) -> String {
        var key: [UInt8] = []
        for field in fields {
            _ = view.anyValue(of: field) { value in
                key.append(contentsOf: value)
                return true
            }
            key.append(0x1f)
        }
        return String(decoding: key, as: UTF8.self)
    }

    /// The correlation rules, each with its matches and the groups it holds.
    package var correlationCounts: [(correlation: SigmaCorrelation, matches: UInt64, groups: Int, forgotten: UInt64)] {
        correlations.indices.map { (correlations[$0].correlation, correlationMatches[$0], correlations[$0].groupCount, correlations[$0].forgottenGroups) }
    }

    /// `N matches of M rules` and the rules that matched most, for a run's last words.
    package var summary: String {
        let counts = rules.indices.map { (rules[$0].title, rules[$0].level, matches[$0]) }
            + correlationCounts.map { ($0.correlation.title, $0.correlation.level, $0.matches) }
        let top = counts.filter { $0.2 > 0 }.sorted { $0.2 > $1.2 }.prefix(5).map { "\($0.0) (\($0.1.rawValue)): \($0.2)" }
        return "\(counts.reduce(0) { $0 + $1.2 }) matches of \(counts.count) rules" + (top.isEmpty ? "" : "; " + top.joined(separator: ", "))
    }

    /// Values joined with spaces, as a command line.
    static func joined<S: Sequence>(_ values: S) -> [UInt8] where S.Element: Collection<UInt8> {
        var line: [UInt8] = []
        for value in values {
            if !line.isEmpty { line.append(UInt8(ascii: " ")) }
            line.append(contentsOf: value)
        }
        return line
    }

    /// A connect, accept or send to an IPv4 or IPv6 peer.
    static func isConnection(_ event: AuditEvent) -> Bool {
        switch event.socketAddress {
        case .inet, .inet6: break
        default: return false
        }
        guard let name = event.syscall?.name else { return false }
        return name == "connect" || name.hasPrefix("accept") || name == "sendto" || name == "sendmsg"
    }

    /// The file an event created or opened for writing, made absolute with the process's
    /// working directory: a PATH record of nametype CREATE, or an open with write flags.
    static func writtenFile(_ event: AuditEvent) -> [UInt8]? {
        let text = event.text
        var chosen = event.paths.first { path in path.nametype.map { text[$0].elementsEqual("CREATE".utf8) } ?? false }
        if chosen == nil, let syscall = event.syscall, let name = syscall.name, name.hasPrefix("open") || name == "creat" {
            // open(path, flags), openat(dirfd, path, flags), openat2(dirfd, path, how): flags in a1 or a2.
            let flagsArgument = name == "open" ? 1 : 2
            let flags = name == "creat" ? 1 : syscall.arguments[flagsArgument].flatMap { ByteNumbers.hexadecimal(text[$0]) } ?? 0
            // O_WRONLY, O_RDWR, O_CREAT, O_TRUNC.
            if name != "openat2", flags & 0o3 != 0 || flags & 0o100 != 0 || flags & 0o1000 != 0 {
                chosen = event.paths.first { path in path.nametype.map { text[$0].elementsEqual("NORMAL".utf8) } ?? true }
            }
        }
        guard let name = chosen?.name.map({ text[$0] }) else { return nil }
        if name.first == UInt8(ascii: "/") { return Array(name) }
        guard let cwd = event.process?.cwd.map({ text[$0] }) else { return Array(name) }
        return Array(cwd) + (cwd.last == UInt8(ascii: "/") ? [] : [UInt8(ascii: "/")]) + Array(name)
    }
}

extension SigmaRule {
    /// For the index: a field every match needs one of a few exact values of (an auditd
    /// `type`, `key` or `SYSCALL`), when the condition requires such an item.
    var anchor: (field: Int, values: [[UInt8]])? {
        let anchorFields = ["type", "key", "SYSCALL"].compactMap { SigmaFields.number(of: $0, in: .auditd) }
        let required = condition.requiredSearches
        guard !required.isEmpty else { return nil }
        // Every required search (any one may be the one that holds) must give an anchor on one field.
        var field: Int?
        var values: [[UInt8]] = []
        for index in required {
            guard case .maps(let maps) = searches[index] else { return nil }
            for map in maps {
                guard let item = map.first(where: { anchorFields.contains($0.field) && !$0.requireAll }),
                      field == nil || field == item.field else { return nil }
                field = item.field
                for value in item.values {
                    guard case .pattern(let pattern) = value, let exact = pattern.exactFolded else { return nil }
                    values.append(exact)
                }
            }
        }
        return field.map { ($0, values) }
    }
}
