/// The rule index's prefilter: which rules an event's field values could match, from the
/// literals the rules require. A rule whose condition needs, in some field, a value
/// containing one of a few literals of three bytes or more (`CommandLine|contains`, an
/// `Image|endswith`, a regular expression's fixed part) is filed under a trigram of each;
/// an event's values are scanned once for trigrams, and a rule is evaluated only when one
/// of its literals stands in full where its first trigram was found. Rules with no such
/// literal are evaluated on every event of their source.
///
/// A class: it is asked for every record of every event, through closures that would
/// otherwise copy (retain and release) each of its tables per call.
final class LiteralIndex {
    /// Rules and their literals by the field number and the literal's first trigram,
    /// folded (`key`): one lookup per candidate trigram.
    private var rulesByTrigram: [UInt64: [(rule: Int, literal: [UInt8])]] = [:]
    /// The fields some literal is in (`rulesByTrigram` has nothing for the others).
    private var indexedFields = Set<Int>()
    /// A quick "no" for (field, trigram) pairs no rule names: one bit per hashed pair.
    private var bloom = [UInt64](repeating: 0, count: 1024)
    /// Rules without a required literal: always evaluated.
    private(set) var open: [Int] = []

    /// Files rule `index` under the literals its condition requires, or with the open ones.
    func add(_ rule: SigmaRule, index: Int) {
        guard let requirement = rule.requiredLiterals, !requirement.isEmpty else {
            open.append(index)
            return
        }
        for (field, literal) in requirement {
            let key = Self.key(field: field, trigram: Self.trigram(literal, at: 0))
            rulesByTrigram[key, default: []].append((index, literal))
            indexedFields.insert(field)
            if case .recordField(let key, let decoding) = EventField.byNumber[field] {
                if !recordFields.contains(where: { $0.number == field }) { recordFields.append((key, field, decoding)) }
            } else if !eventFields.contains(field) {
                eventFields.append(field)
            }
            let bit = Self.bloomBit(key)
            bloom[bit >> 6] |= 1 << UInt64(bit & 63)
        }
    }

    var isEmpty: Bool { open.isEmpty && rulesByTrigram.isEmpty }

    /// Adds the rules `view`'s values name: of the event's fields, of the record's own, or
    /// both (`recordFields` nil).
    func candidates(in view: EventFieldView, recordFields onlyRecord: Bool?, into candidates: inout [Int]) {
        if onlyRecord != true {
            for field in eventFields {
                _ = view.anyValue(of: field) { value in
                    self.candidates(field: field, value: value, into: &candidates)
                    return false
                }
            }
        }
        if onlyRecord != false {
            view.forEachRecordValue(recordFields) { field, value in self.candidates(field: field, value: value, into: &candidates) }
        }
    }

    /// The fields whose values are scanned: the event's, and a record's own (by name).
    private(set) var eventFields: [Int] = []
    private(set) var recordFields: [(key: [UInt8], number: Int, decoding: EventField.Decoding)] = []

    /// Adds to `candidates` the rules a trigram of `value` (in `field`) names.
    func candidates(field: Int, value: UnsafeBufferPointer<UInt8>, into candidates: inout [Int]) {
        guard value.count >= 3, indexedFields.contains(field) else { return }
        let fieldBits = UInt64(field) << 24
        var trigram = UInt32(SigmaText.fold(value[0])) << 8 | UInt32(SigmaText.fold(value[1]))
        bloom.withUnsafeBufferPointer { bloom in
            for offset in 2..<value.count {
                trigram = (trigram << 8 | UInt32(SigmaText.fold(value[offset]))) & 0xff_ffff
                let key = fieldBits | UInt64(trigram)
                let bit = Self.bloomBit(key)
                guard bloom[bit >> 6] & (1 << UInt64(bit & 63)) != 0, let rules = rulesByTrigram[key] else { continue }
                for (rule, literal) in rules where !candidates.contains(rule) && Self.literal(literal, standsIn: value, at: offset - 2) {
                    candidates.append(rule)
                }
            }
        }
    }

    /// Whether the folded `literal` is in `value` at `start`.
    private static func literal(_ literal: [UInt8], standsIn value: UnsafeBufferPointer<UInt8>, at start: Int) -> Bool {
        guard start + literal.count <= value.count else { return false }
        for index in 3..<max(3, literal.count) where SigmaText.fold(value[start + index]) != literal[index] { return false }
        return true
    }

    private static func trigram(_ literal: [UInt8], at offset: Int) -> UInt32 {
        UInt32(literal[offset]) << 16 | UInt32(literal[offset + 1]) << 8 | UInt32(literal[offset + 2])
    }

    private static func key(field: Int, trigram: UInt32) -> UInt64 { UInt64(field) << 24 | UInt64(trigram) }

    private static func bloomBit(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 48) }
}

extension SigmaRule {
    /// (field, folded literal) pairs of which every match contains at least one: from the
    /// searches the condition requires, one item per map whose every value has a literal
    /// of three bytes or more. Nil when the condition requires nothing so narrow.
    var requiredLiterals: [(field: Int, literal: [UInt8])]? {
        let required = condition.requiredSearches
        guard !required.isEmpty else { return nil }
        var literals: [(field: Int, literal: [UInt8])] = []
        for index in required {
            guard case .maps(let maps) = searches[index] else { return nil }
            for map in maps {
                let items = map.compactMap { item -> [(Int, [UInt8])]? in
                    var found: [(Int, [UInt8])] = []
                    for value in item.values {
                        let literals: [[UInt8]]
                        switch value {
                        case .pattern(let pattern): literals = [pattern.requiredLiteral]
                        case .regex(let regex): literals = regex.requiredLiterals
                        default: return nil
                        }
                        guard !literals.isEmpty, literals.allSatisfy({ $0.count >= 3 }) else { return nil }
                        found += literals.map { (item.field, $0) }
                        // With `all`, any one value's literal is required.
                        if item.requireAll { break }
                    }
                    return found.isEmpty ? nil : found
                }
                // The most selective item: its shortest literal longest; a record's `type`
                // (a handful of values on every record) only when nothing else is there.
                let typeField = SigmaFields.number(of: "type", in: .auditd)
                func score(_ item: [(Int, [UInt8])]) -> Int {
                    (item.first?.0 == typeField ? 0 : 1000) + (item.map(\.1.count).min() ?? 0)
                }
                guard let item = items.max(by: { score($0) < score($1) }) else { return nil }
                literals += item.map { (field: $0.0, literal: $0.1) }
            }
        }
        return literals
    }
}
