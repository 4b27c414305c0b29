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
    /// The event-level sources' rules (nil: none of that source).
    /// (Constants after `init`: a stored `var` of a class costs a run-time exclusivity
    /// check at each of the several reads every event makes.)
    private let processCreation: LiteralIndex?
    private let networkConnection: LiteralIndex?
    private let fileEvent: LiteralIndex?
    /// auditd rules by an anchoring (field number, folded value); the rest by their literals.
    private let auditdAnchored: [Int: [[UInt8]: [Int]]]
    /// Whether a rule is anchored on a record's `type` value (else only on event fields).
    private let anchorsOnType: Bool
    /// Rules anchored on a record type, by the type's number: no text compared per record.
    private let auditdByType: [UInt32: [Int]]
    private let auditdByLiteral: LiteralIndex
    /// Whether a rule names the parent's arguments (`ParentCommandLine`, `parent.args`):
    /// else they are never joined.
    private let readsParentCommandLine: Bool
    /// Matches so far, per rule (for /metrics).
    package private(set) var matches: [UInt64]
    /// Told every view of an event the rules read, whether or not a rule concerns it
    /// (`nodeaudit sigma fields`: what rules can match, and the oracle's tables).
    package var observer: Observer?
    package typealias Observer = (_ eventID: String, _ source: SigmaLogSource, _ fields: [(name: String, values: [[UInt8]])]) -> Void

    /// Correlation rules, with their state.
    private let correlations: [CorrelationState]
    /// For each rule, the correlations (by number) that count its matches, and its place in each.
    private var correlationsByRule: [Int: [(correlation: Int, position: Int)]] = [:]
    /// Whether a rule's own matches are reported: not when only correlations without
    /// `generate: true` refer to it.
    private var reports: [Bool]
    /// Matches so far, per correlation.
    package private(set) var correlationMatches: [UInt64]

    /// `previous`: the rules these replace; a rule kept (same id and title) keeps its count.
    /// `correlations` refer to `rules` by name or id (`SigmaRuleSet` checked they do).
    package init(rules: [SigmaRule], correlations: [SigmaCorrelation] = [], replacing previous: SigmaDetector? = nil) {
        self.rules = rules
        let parentArguments = Set([SigmaFields.number(of: "parent.args", in: .auditd),
                                   SigmaFields.number(of: "ParentCommandLine", in: .processCreation)].compactMap { $0 })
        readsParentCommandLine = rules.contains { !$0.fieldNumbers.isDisjoint(with: parentArguments) }
        matches = Array(repeating: 0, count: rules.count)
        reports = Array(repeating: true, count: rules.count)
        correlationMatches = Array(repeating: 0, count: correlations.count)
        self.correlations = correlations.map { correlation in
            let numbers = correlation.references.compactMap { reference in rules.firstIndex { $0.name == reference || $0.id == reference } }
            let fields = numbers.map { rule in correlation.groupBy.compactMap { SigmaFields.number(of: $0, in: rules[rule].logSource) } }
            return CorrelationState(correlation, rules: numbers, groupFields: fields)
        }
        var generated = Set<Int>()
        for (number, state) in self.correlations.enumerated() {
            for (position, rule) in state.rules.enumerated() {
                correlationsByRule[rule, default: []].append((number, position))
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
        var bySource: [SigmaLogSource: [(rule: SigmaRule, index: Int)]] = [:]
        var auditdByLiteral: [(rule: SigmaRule, index: Int)] = []
        var auditdAnchored: [Int: [[UInt8]: [Int]]] = [:]
        var auditdByType: [UInt32: [Int]] = [:]
        for (index, rule) in rules.enumerated() {
            if rule.logSource == .auditd {
                // A literal in another field than `type` narrows more than the type does.
                let typeField = Self.typeField
                if let literals = rule.requiredLiterals, !literals.contains(where: { $0.field == typeField }) {
                    auditdByLiteral.append((rule, index))
                } else if let (field, values) = rule.anchor {
                    for value in values {
                        if field == typeField, let type = RecordType(foldedName: value) {
                            auditdByType[type.number, default: []].append(index)
                        } else {
                            auditdAnchored[field, default: [:]][value, default: []].append(index)
                        }
                    }
                } else {
                    auditdByLiteral.append((rule, index))
                }
            } else {
                bySource[rule.logSource, default: []].append((rule, index))
            }
        }
        processCreation = bySource[.processCreation].map(LiteralIndex.init)
        networkConnection = bySource[.networkConnection].map(LiteralIndex.init)
        fileEvent = bySource[.fileEvent].map(LiteralIndex.init)
        self.auditdByLiteral = LiteralIndex(auditdByLiteral)
        self.auditdAnchored = auditdAnchored
        self.auditdByType = auditdByType
        anchorsOnType = auditdAnchored[Self.typeField] != nil
    }

    private static let typeField = SigmaFields.number(of: "type", in: .auditd)!

    /// Adds to `event.detections` every rule it matches, each once.
    package func detect(_ event: inout AuditEvent) {
        // The buffers of the last event's pass, reused: no allocation per event.
        pass.reset(time: event.key.stamp.epochMilliseconds, observer: observer)
        withUnsafePointer(to: &event) { evaluate($0, &pass) }
        guard !pass.matched.isEmpty || !pass.fired.isEmpty else { return }
        for index in pass.matched {
            matches[index] += 1
            if reports[index], !event.detections.contains(where: { $0.id == rules[index].id && $0.title == rules[index].title }) {
                event.detections.append(rules[index].detection)
            }
        }
        for number in pass.fired {
            correlationMatches[number] += 1
            event.detections.append(correlations[number].correlation.detection)
        }
    }

    /// What one event's evaluation gathers, in buffers kept from event to event.
    private struct Pass {
        var matched: [Int] = []
        var fired: [Int] = []
        var candidates: [Int] = []
        /// The auditd rules every record of the event is asked (open ones, those the event's
        /// keys, syscall and nodeaudit's fields name).
        var byEvent: [Int] = []
        var folded: [UInt8] = []
        var time: UInt64 = 0
        var observer: Observer?

        mutating func reset(time: UInt64, observer: Observer?) {
            matched.removeAll(keepingCapacity: true)
            fired.removeAll(keepingCapacity: true)
            candidates.removeAll(keepingCapacity: true)
            byEvent.removeAll(keepingCapacity: true)
            self.time = time
            self.observer = observer
        }
    }
    private var pass = Pass()

    /// Finds the rules the event matches, and the correlations that fire, the event borrowed.
    private func evaluate(_ pointer: UnsafePointer<AuditEvent>, _ pass: inout Pass) {
        let observing = pass.observer != nil
        let isExec = pointer.pointee.exec != nil && pointer.pointee.syscall?.success != false
        var joined = EventFieldView.JoinedValues()
        if isExec && (processCreation != nil || observing) {
            joined.commandLine = Self.joined(pointer.pointee.exec?.argv ?? [], in: pointer.pointee.text)
        }
        // Joined only when a rule can read it (or `sigma fields` shows it).
        if readsParentCommandLine || observing {
            joined.parentCommandLine = pointer.pointee.lineage?.parent.program.arguments.map { Self.joined(Array($0)) }
        }
        if fileEvent != nil || observing { joined.targetFilename = Self.writtenFile(pointer) }
        withUnsafePointer(to: &joined) { joined in
            let eventView = EventFieldView(pointer, joined: joined)
            if isExec, processCreation != nil || observing {
                evaluateEventSource(.processCreation, processCreation, eventView, &pass)
            }
            if networkConnection != nil || observing, Self.isConnection(pointer) {
                evaluateEventSource(.networkConnection, networkConnection, eventView, &pass)
            }
            if joined.pointee.targetFilename != nil {
                evaluateEventSource(.fileEvent, fileEvent, eventView, &pass)
            }
            guard observing || !auditdAnchored.isEmpty || !auditdByType.isEmpty || !auditdByLiteral.isEmpty else { return }
            // Keys, the syscall and nodeaudit's fields are the event's: looked up once, not
            // per record, with the rules that need no literal.
            pass.byEvent += auditdByLiteral.open
            anchoredRules(in: eventView, recordFields: false, into: &pass.byEvent, &pass.folded)
            auditdByLiteral.candidates(in: eventView, recordFields: false, into: &pass.byEvent)
            pointer.pointee.records.withUnsafeBufferPointer { records in
                for index in records.indices {
                    let record = records.baseAddress! + index
                    let recordView = EventFieldView(pointer, record: record, joined: joined)
                    pass.candidates.removeAll(keepingCapacity: true)
                    if !pass.byEvent.isEmpty { pass.candidates += pass.byEvent }
                    if !auditdByType.isEmpty, let rules = auditdByType[record.pointee.type.number] { pass.candidates += rules }
                    if anchorsOnType { anchoredRules(in: recordView, recordFields: true, into: &pass.candidates, &pass.folded) }
                    auditdByLiteral.candidates(in: recordView, recordFields: true, into: &pass.candidates)
                    run(.auditd, recordView, &pass)
                }
            }
        }
    }

    /// An event-level source: its open rules and those its literals name, evaluated.
    private func evaluateEventSource(_ source: SigmaLogSource, _ literals: LiteralIndex?, _ view: EventFieldView, _ pass: inout Pass) {
        pass.candidates.removeAll(keepingCapacity: true)
        if let index = literals {
            if !index.open.isEmpty { pass.candidates += index.open }
            index.candidates(in: view, recordFields: nil, into: &pass.candidates)
        }
        run(source, view, &pass)
    }

    /// The auditd rules anchored on the values `view` has in the anchor fields (the
    /// record's `type` when `recordFields`, else the event's key and syscall).
    private func anchoredRules(in view: EventFieldView, recordFields: Bool, into found: inout [Int], _ folded: inout [UInt8]) {
        for (field, byValue) in auditdAnchored where (field == Self.typeField) == recordFields {
            _ = view.anyValue(of: field) { value in
                folded.removeAll(keepingCapacity: true)
                folded.append(contentsOf: value.lazy.map(SigmaText.fold))
                if let rules = byValue[folded] { found += rules }
                return false
            }
        }
    }

    /// Evaluates the pass's candidates on `view`, recording matches and what correlations make of them.
    private func run(_ source: SigmaLogSource, _ view: EventFieldView, _ pass: inout Pass) {
        if let observer = pass.observer { observer(view.eventID, source, view.fields(of: source)) }
        for index in pass.candidates where !pass.matched.contains(index) && rules[index].matches(view) {
            pass.matched.append(index)
            for (number, position) in correlationsByRule[index] ?? [] {
                let state = correlations[number]
                if state.record(position: position, key: Self.groupKey(state.groupFields[position], in: view), time: pass.time) {
                    pass.fired.append(number)
                }
            }
        }
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

    /// An exec's arguments joined with spaces, as a command line, in one allocation.
    static func joined(_ arguments: [TextRange], in text: EventText) -> [UInt8] {
        var line: [UInt8] = []
        line.reserveCapacity(arguments.reduce(arguments.count) { $0 + $1.count })
        for range in arguments {
            if !line.isEmpty { line.append(UInt8(ascii: " ")) }
            line.append(contentsOf: text[range])
        }
        return line
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
    static func isConnection(_ event: UnsafePointer<AuditEvent>) -> Bool {
        switch event.pointee.socketAddress {
        case .inet, .inet6: break
        default: return false
        }
        guard let name = event.pointee.syscall?.name else { return false }
        return name == "connect" || name.hasPrefix("accept") || name == "sendto" || name == "sendmsg"
    }

    /// The file an event created or opened for writing, made absolute with the process's
    /// working directory: a PATH record of nametype CREATE, or an open with write flags.
    static func writtenFile(_ pointer: UnsafePointer<AuditEvent>) -> [UInt8]? {
        let text = pointer.pointee.text
        let paths = pointer.pointee.paths
        var chosen = paths.first { path in path.nametype.map { text[$0].elementsEqual("CREATE".utf8) } ?? false }
        if chosen == nil, let syscall = pointer.pointee.syscall, let name = syscall.name, name.utf8.starts(with: "open".utf8) || name == "creat" {
            // open(path, flags), openat(dirfd, path, flags), openat2(dirfd, path, how): flags in a1 or a2.
            let flagsArgument = name == "open" ? 1 : 2
            let flags = name == "creat" ? 1 : syscall.arguments[flagsArgument].flatMap { ByteNumbers.hexadecimal(text[$0]) } ?? 0
            // O_WRONLY, O_RDWR, O_CREAT, O_TRUNC.
            if name != "openat2", flags & 0o3 != 0 || flags & 0o100 != 0 || flags & 0o1000 != 0 {
                chosen = paths.first { path in path.nametype.map { text[$0].elementsEqual("NORMAL".utf8) } ?? true }
            }
        }
        guard let name = chosen?.name.map({ text[$0] }) else { return nil }
        if name.first == UInt8(ascii: "/") { return Array(name) }
        guard let cwd = pointer.pointee.process?.cwd.map({ text[$0] }) else { return Array(name) }
        return Array(cwd) + (cwd.last == UInt8(ascii: "/") ? [] : [UInt8(ascii: "/")]) + Array(name)
    }
}

extension SigmaRule {
    /// The fields the rule's searches name.
    var fieldNumbers: Set<Int> {
        Set(searches.flatMap { search -> [Int] in
            guard case .maps(let maps) = search else { return [] }
            return maps.flatMap { $0.map(\.field) }
        })
    }

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
