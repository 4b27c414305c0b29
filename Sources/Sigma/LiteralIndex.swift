import AuditRecords

/// The rule index's prefilter: which rules an event's field values could match, from the
/// literals the rules require. A rule whose condition needs, in some field, a value
/// containing one of a few literals of three bytes or more (`CommandLine|contains`, an
/// `Image|endswith`, a regular expression's fixed part) is filed under a trigram of each;
/// an event's values are scanned once for trigrams, and a rule is evaluated only when one
/// of its literals stands in full where its first trigram was found. Rules with no such
/// literal are evaluated on every event of their source.
///
/// Built once and never changed. Its tables are flat and frozen (open addressing for the
/// trigrams, the literals in one byte buffer), owned by the index and freed with it: the
/// scan of each value of every record retains nothing and hashes with one multiplication.
final class LiteralIndex {
    /// Occupied slots' keys, `(field << 24 | trigram) | occupied`; 0 is an empty slot.
    private let slotKeys: FrozenArray<UInt64>
    /// Per slot, where its rules are in `entries`.
    private let slots: FrozenArray<Slot>
    private let slotMask: Int
    private let slotShift: UInt64
    /// The rules filed under the keys, and where each one's folded literal is in `literalBytes`.
    private let entries: FrozenArray<Entry>
    private let literalBytes: FrozenArray<UInt8>
    /// By field number: whether some literal is in that field (the others are not scanned).
    private let indexedFields: FrozenArray<Bool>
    /// Rules without a required literal: always evaluated.
    let open: [Int]
    /// The fields whose values are scanned: the event's, and a record's own (by name): in
    /// records of any type, and in those of the types some rule's literal requires.
    let eventFields: [Int]
    private let anyRecordType: RecordFieldNames
    private let byRecordType: [(type: UInt32, names: RecordFieldNames)]

    private struct Slot {
        let first: Int32
        let count: Int32
    }

    private struct Entry {
        let rule: Int
        let literalStart: Int32
        let literalCount: Int32
    }

    private static let occupied: UInt64 = 1 << 63

    /// Files each rule under the literals its condition requires, or with the open ones.
    init(_ rules: [(rule: SigmaRule, index: Int)]) {
        var open: [Int] = []
        var byKey: [UInt64: [(rule: Int, literal: [UInt8])]] = [:]
        var indexedFields = [Bool](repeating: false, count: SigmaFields.all.count)
        var eventFields: [Int] = []
        // Record fields scanned in records of any type, and those only in some types.
        var anyTypeFields: [Int] = []
        var fieldsByType: [UInt32: [Int]] = [:]
        for (rule, index) in rules {
            guard let requirement = rule.requiredLiterals, !requirement.isEmpty else {
                open.append(index)
                continue
            }
            for required in requirement {
                let field = required.field
                byKey[Self.key(field: field, trigram: Self.trigram(required.literal, at: 0)), default: []].append((index, required.literal))
                indexedFields[field] = true
                if case .recordField = EventField.byNumber[field] {
                    if let types = required.recordTypes {
                        for type in types where !fieldsByType[type, default: []].contains(field) { fieldsByType[type, default: []].append(field) }
                    } else if !anyTypeFields.contains(field) {
                        anyTypeFields.append(field)
                    }
                } else if !eventFields.contains(field) {
                    eventFields.append(field)
                }
            }
        }
        // A quarter full at most: nearly every probe ends at its first slot.
        var capacity = 64
        while capacity < byKey.count * 4 { capacity *= 2 }
        var slotKeys = [UInt64](repeating: 0, count: capacity)
        var slots = [Slot](repeating: Slot(first: 0, count: 0), count: capacity)
        var entries: [Entry] = []
        var literalBytes: [UInt8] = []
        let shift = UInt64(64 - capacity.trailingZeroBitCount)
        for (key, filed) in byKey.sorted(by: { $0.key < $1.key }) {
            var slot = Self.slot(key, shift: shift)
            while slotKeys[slot] != 0 { slot = (slot + 1) & (capacity - 1) }
            slotKeys[slot] = key | Self.occupied
            slots[slot] = Slot(first: Int32(entries.count), count: Int32(filed.count))
            for (rule, literal) in filed {
                entries.append(Entry(rule: rule, literalStart: Int32(literalBytes.count), literalCount: Int32(literal.count)))
                literalBytes += literal
            }
        }
        self.slotKeys = FrozenArray(slotKeys)
        self.slots = FrozenArray(slots)
        slotMask = capacity - 1
        slotShift = shift
        self.entries = FrozenArray(entries)
        self.literalBytes = FrozenArray(literalBytes)
        self.indexedFields = FrozenArray(indexedFields)
        self.open = open
        self.eventFields = eventFields
        anyRecordType = RecordFieldNames(anyTypeFields)
        byRecordType = fieldsByType.sorted { $0.key < $1.key }.map { type, fields in
            (type, RecordFieldNames(fields + anyTypeFields.filter { !fields.contains($0) }))
        }
    }

    deinit {
        slotKeys.free()
        slots.free()
        entries.free()
        literalBytes.free()
        indexedFields.free()
        anyRecordType.free()
        for (_, names) in byRecordType { names.free() }
    }

    /// The record fields scanned in a record of `type`.
    private func recordFields(of type: RecordType) -> RecordFieldNames {
        for (number, names) in byRecordType where number == type.number { return names }
        return anyRecordType
    }

    var isEmpty: Bool { open.isEmpty && entries.isEmpty }

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
            guard let type = view.recordType else { return }
            let names = recordFields(of: type)
            guard !names.isEmpty else { return }
            view.forEachRecordValue(names) { field, value in self.candidates(field: field, value: value, into: &candidates) }
        }
    }

    /// Adds to `candidates` the rules a trigram of `value` (in `field`) names.
    func candidates(field: Int, value: UnsafeBufferPointer<UInt8>, into candidates: inout [Int]) {
        guard value.count >= 3, indexedFields[field] else { return }
        let fieldBits = UInt64(field) << 24 | Self.occupied
        var trigram = UInt32(SigmaText.fold(value[0])) << 8 | UInt32(SigmaText.fold(value[1]))
        for offset in 2..<value.count {
            trigram = (trigram << 8 | UInt32(SigmaText.fold(value[offset]))) & 0xff_ffff
            let wanted = fieldBits | UInt64(trigram)
            var slot = Self.slot(wanted & ~Self.occupied, shift: slotShift)
            while true {
                let key = slotKeys[slot]
                if key == wanted {
                    addRules(filedAt: slot, standingIn: value, at: offset - 2, to: &candidates)
                    break
                }
                if key == 0 { break }
                slot = (slot + 1) & slotMask
            }
        }
    }

    /// Adds the rules of a slot whose literal stands in full in `value` at `start`.
    private func addRules(filedAt slot: Int, standingIn value: UnsafeBufferPointer<UInt8>, at start: Int, to candidates: inout [Int]) {
        let filed = slots[slot]
        for position in Int(filed.first)..<Int(filed.first + filed.count) {
            let entry = entries[position]
            guard !candidates.contains(entry.rule), start + Int(entry.literalCount) <= value.count else { continue }
            // Its first three bytes are the trigram found.
            var index = 3
            while index < Int(entry.literalCount), SigmaText.fold(value[start + index]) == literalBytes[Int(entry.literalStart) + index] {
                index += 1
            }
            if index >= Int(entry.literalCount) { candidates.append(entry.rule) }
        }
    }

    private static func trigram(_ literal: [UInt8], at offset: Int) -> UInt32 {
        UInt32(literal[offset]) << 16 | UInt32(literal[offset + 1]) << 8 | UInt32(literal[offset + 2])
    }

    private static func key(field: Int, trigram: UInt32) -> UInt64 { UInt64(field) << 24 | UInt64(trigram) }

    private static func slot(_ key: UInt64, shift: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }
}

/// The record field names a scan looks for, grouped by length: a record's field is
/// compared only with the names of its own length (most lengths have none). Frozen
/// tables, freed by the `LiteralIndex` that owns them.
struct RecordFieldNames {
    struct Name {
        let start: Int
        let number: Int
        let decoding: EventField.Decoding
    }
    private let bytes: FrozenArray<UInt8>
    /// Sorted by length; those of length n are `names[firstOfLength[n]..<firstOfLength[n + 1]]`.
    private let names: FrozenArray<Name>
    private let firstOfLength: FrozenArray<Int>
    /// Bit n set: some name is n bytes long.
    private let lengthMask: UInt64

    init(_ numbers: [Int]) {
        let fields = numbers.compactMap { number -> (key: [UInt8], number: Int, decoding: EventField.Decoding)? in
            guard case .recordField(let key, let decoding) = EventField.byNumber[number] else { return nil }
            return (key, number, decoding)
        }
        let sorted = fields.sorted { $0.key.count < $1.key.count }
        var bytes: [UInt8] = []
        var names: [Name] = []
        var firstOfLength: [Int] = []
        for field in sorted {
            while firstOfLength.count <= field.key.count { firstOfLength.append(names.count) }
            names.append(Name(start: bytes.count, number: field.number, decoding: field.decoding))
            bytes += field.key
        }
        firstOfLength.append(names.count)
        lengthMask = sorted.reduce(0) { $1.key.count < 64 ? $0 | 1 << UInt64($1.key.count) : $0 }
        self.bytes = FrozenArray(bytes)
        self.names = FrozenArray(names)
        self.firstOfLength = FrozenArray(firstOfLength)
    }

    func free() {
        bytes.free()
        names.free()
        firstOfLength.free()
    }

    var isEmpty: Bool { names.isEmpty }

    /// Calls `visit` with each field of `record` whose name is one of these, and its raw value.
    func forEachField(of record: AuditRecord, _ visit: (Name, UnsafeBufferPointer<UInt8>) -> Void) {
        let lengths = lengthMask
        record.withContents { bytes, fields, _ in
            for field in fields {
                // Most fields are passed over by their length alone.
                let length = Int(field.keyEnd &- field.keyStart)
                guard length < 64, lengths >> UInt64(length) & 1 != 0 else { continue }
                candidates: for position in firstOfLength[length]..<firstOfLength[length + 1] {
                    let name = names[position]
                    for index in 0..<length where bytes[Int(field.keyStart) + index] != self.bytes[name.start + index] { continue candidates }
                    visit(name, UnsafeBufferPointer(rebasing: bytes[field.valueRange]))
                }
            }
        }
    }
}

/// An array's elements copied once into memory of their own, read without the reference
/// counting and uniqueness checks of an `Array`: for tables that never change and are read
/// for every value of every event. Its owner frees it (`free`), once.
struct FrozenArray<Element> {
    private let base: UnsafeMutablePointer<Element>
    let count: Int

    init(_ elements: [Element]) {
        let base = UnsafeMutablePointer<Element>.allocate(capacity: max(elements.count, 1))
        elements.withUnsafeBufferPointer { source in
            if let start = source.baseAddress { base.initialize(from: start, count: source.count) }
        }
        self.base = base
        count = elements.count
    }

    var isEmpty: Bool { count == 0 }

    subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "FrozenArray index out of range")
        return base[index]
    }

    func free() {
        base.deinitialize(count: count)
        base.deallocate()
    }
}

extension SigmaRule {
    /// (field, folded literal) pairs of which every match contains at least one: from the
    /// searches the condition requires, one item per map whose every value has a literal
    /// of three bytes or more. Nil when the condition requires nothing so narrow.
    /// `recordTypes`: for a record's own field, the record types the same map requires
    /// (`type: EXECVE` beside `a0: …`), where a match can only be; nil: any record.
    var requiredLiterals: [RequiredLiteral]? {
        let required = condition.requiredSearches
        guard !required.isEmpty else { return nil }
        var literals: [RequiredLiteral] = []
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
                let recordTypes = Self.recordTypes(requiredBy: map)
                literals += item.map { RequiredLiteral(field: $0.0, literal: $0.1, recordTypes: recordTypes) }
            }
        }
        return literals
    }

    /// The record types a map's `type` item allows, when it names known types exactly.
    private static func recordTypes(requiredBy map: [SigmaFieldItem]) -> [UInt32]? {
        let typeField = SigmaFields.number(of: "type", in: .auditd)
        guard let item = map.first(where: { $0.field == typeField && !$0.requireAll }) else { return nil }
        var numbers: [UInt32] = []
        for value in item.values {
            guard case .pattern(let pattern) = value, let exact = pattern.exactFolded,
                  let type = RecordType(foldedName: exact) else { return nil }
            numbers.append(type.number)
        }
        return numbers
    }
}

/// A literal a rule's every match contains in a field (`SigmaRule.requiredLiterals`).
struct RequiredLiteral {
    let field: Int
    let literal: [UInt8]
    let recordTypes: [UInt32]?
}

extension RecordType {
    /// A type by its name as Sigma values are folded (lower case).
    init?(foldedName: [UInt8]) {
        self.init(name: Array(foldedName.map { $0 &- 97 < 26 ? $0 - 32 : $0 })[...])
    }
}
