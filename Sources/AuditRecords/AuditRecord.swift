/// One kernel audit message: its type, stamp, and fields kept as byte ranges.
///
/// A record owns the bytes of its body; its fields index into them. ENRICHED logs append
/// auditd's interpretations after a 0x1d byte; those are kept apart (`interpretations`)
/// so the kernel's own values are never confused with auditd's rendering of them.
///
/// One allocation holds the record (`RecordStorage`): its layout, then its fields and
/// interpretations, then its bytes. A record used to be three (object, bytes, fields), and
/// allocating and freeing them was the largest cost of reading records (perf,
/// Scripts/bench-parse). Immutable once made, so it is shared between threads freely.
public struct AuditRecord: @unchecked Sendable {
    @usableFromInline let storage: RecordStorage

    /// What a record knows besides its fields and bytes.
    public struct Layout: Sendable {
        @usableFromInline let type: RecordType
        @usableFromInline let stamp: AuditStamp
        @usableFromInline let fieldCount: Int32
        @usableFromInline let interpretationCount: Int32
        @usableFromInline let byteCount: Int32
        /// Where the kernel's text (`text`) is in the bytes.
        @usableFromInline let textStart: Int32
        @usableFromInline let textEnd: Int32
        /// The `node=` name in the bytes; empty when the log gave none.
        @usableFromInline let nodeStart: Int32
        @usableFromInline let nodeEnd: Int32
        /// The type name as the input wrote it, when libaudit does not know the type.
        @usableFromInline let typeNameStart: Int32
        @usableFromInline let typeNameEnd: Int32
    }

    /// Makes a record from `bytes`, whose `fields` come first in `fields` and are followed
    /// by `interpretationCount` interpretations.
    static func make(
        type: RecordType, stamp: AuditStamp, bytes: UnsafeBufferPointer<UInt8>, text: Range<Int>,
        node: Range<Int>?, unresolvedTypeName: Range<Int>?, fields: UnsafeBufferPointer<RecordField>,
        interpretationCount: Int
    ) -> AuditRecord {
        let fieldSlots = fields.count
        let byteSlots = (bytes.count + MemoryLayout<RecordField>.stride - 1) / MemoryLayout<RecordField>.stride
        let layout = Layout(
            type: type, stamp: stamp, fieldCount: Int32(fields.count - interpretationCount),
            interpretationCount: Int32(interpretationCount), byteCount: Int32(bytes.count),
            textStart: Int32(text.lowerBound), textEnd: Int32(text.upperBound),
            nodeStart: Int32(node?.lowerBound ?? 0), nodeEnd: Int32(node?.upperBound ?? 0),
            typeNameStart: Int32(unresolvedTypeName?.lowerBound ?? 0), typeNameEnd: Int32(unresolvedTypeName?.upperBound ?? 0))
        let buffer = RecordStorage.create(minimumCapacity: fieldSlots + byteSlots) { _ in layout }
        let storage = unsafeDowncast(buffer, to: RecordStorage.self)
        storage.withUnsafeMutablePointerToElements { elements in
            if let source = fields.baseAddress { elements.initialize(from: source, count: fieldSlots) }
            let byteStart = UnsafeMutableRawPointer(elements + fieldSlots).bindMemory(to: UInt8.self, capacity: bytes.count)
            if let source = bytes.baseAddress { byteStart.initialize(from: source, count: bytes.count) }
        }
        return AuditRecord(storage: storage)
    }

    /// Read through a pointer: `ManagedBuffer.header` is a class property, checked for
    /// exclusive access at run time on every read (perf: 6 % of parsing).
    @usableFromInline var header: Layout { storage.withUnsafeMutablePointerToHeader { $0.pointee } }

    @inlinable
    func withUnsafeMutablePointerToElements<R>(_ body: (UnsafeMutablePointer<RecordField>) throws -> R) rethrows -> R {
        try storage.withUnsafeMutablePointerToElements(body)
    }

    public var type: RecordType { header.type }
    public var stamp: AuditStamp { header.stamp }

    /// How many fields the kernel wrote.
    public var fieldCount: Int { Int(header.fieldCount) }
    public var hasInterpretations: Bool { header.interpretationCount > 0 }

    /// Calls `read` with the record's bytes, in place.
    @inlinable
    public func withBytes<R>(_ read: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        let layout = header
        let slots = Int(layout.fieldCount + layout.interpretationCount)
        return try withUnsafeMutablePointerToElements { elements in
            let start = UnsafeRawPointer(elements + slots).assumingMemoryBound(to: UInt8.self)
            return try read(UnsafeBufferPointer(start: start, count: Int(layout.byteCount)))
        }
    }

    /// Calls `read` with the record's bytes and its kernel fields and auditd's interpretations.
    @inlinable
    public func withContents<R>(
        _ read: (_ bytes: UnsafeBufferPointer<UInt8>, _ fields: UnsafeBufferPointer<RecordField>,
                 _ interpretations: UnsafeBufferPointer<RecordField>) throws -> R
    ) rethrows -> R {
        let layout = header
        let count = Int(layout.fieldCount)
        let slots = count + Int(layout.interpretationCount)
        return try withUnsafeMutablePointerToElements { elements in
            let start = UnsafeRawPointer(elements + slots).assumingMemoryBound(to: UInt8.self)
            return try read(UnsafeBufferPointer(start: start, count: Int(layout.byteCount)),
                            UnsafeBufferPointer(start: elements, count: count),
                            UnsafeBufferPointer(start: elements + count, count: Int(layout.interpretationCount)))
        }
    }

    /// A copy of some of the record's bytes.
    private func copy(_ start: Int32, _ end: Int32) -> Bytes {
        withBytes { Array($0[Int(start)..<Int(end)])[...] }
    }

    /// The `node=` name of the machine that wrote the record, when the log says.
    public var node: Bytes? {
        let layout = header
        return layout.nodeEnd > layout.nodeStart ? copy(layout.nodeStart, layout.nodeEnd) : nil
    }

    /// Calls `read` with the bytes of `typeName`, without building a String for the types
    /// libaudit knows (encoders write one per record).
    public func withTypeName<R>(_ read: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if let known = RecordTypeTable.shared.nameBytes(of: type.number) { return read(known) }
        var name = typeName
        return name.withUTF8(read)
    }

    /// The type's name for output: libaudit's name, the input's name, or `UNKNOWN[n]`.
    public var typeName: String {
        if let name = type.name { return name }
        let layout = header
        if layout.typeNameEnd > layout.typeNameStart { return copy(layout.typeNameStart, layout.typeNameEnd).utf8String }
        return type.description
    }

    /// A copy of the kernel's text of the record (see `withText`).
    public var text: Bytes { withText { Array($0)[...] } }

    /// A copy of auditd's interpretations as written; nil in RAW input.
    public var interpretationText: Bytes? { withInterpretationText { Array($0)[...] } }

    /// Calls `read` with the kernel's text of the record: everything after `audit(…): `
    /// up to any interpretations.
    public func withText<R>(_ read: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        let layout = header
        return withBytes { read(UnsafeBufferPointer(rebasing: $0[Int(layout.textStart)..<Int(layout.textEnd)])) }
    }

    /// Calls `read` with auditd's interpretations as written after the 0x1d byte; nil in RAW input.
    public func withInterpretationText<R>(_ read: (UnsafeBufferPointer<UInt8>) -> R) -> R? {
        let layout = header
        guard Int(layout.textEnd) < Int(layout.byteCount) else { return nil }
        return withBytes { read(UnsafeBufferPointer(rebasing: $0[(Int(layout.textEnd) + 1)...])) }
    }

    /// The raw (still encoded) value of the first field named `key`, copied.
    public func raw(_ key: StaticString) -> Bytes? { withRaw(key) { Array($0)[...] } }

    /// Whether the record has a field named `key`.
    public func has(_ key: StaticString) -> Bool {
        withContents { bytes, fields, _ in Self.firstIndex(of: key, in: fields, bytes) != nil }
    }

    /// The raw value of auditd's interpretation named `key` (ENRICHED logs only), copied.
    public func interpretation(_ key: StaticString) -> Bytes? {
        guard hasInterpretations else { return nil }
        return withContents { bytes, _, interpretations in
            Self.firstIndex(of: key, in: interpretations, bytes).map { Array(bytes[interpretations[$0].valueRange])[...] }
        }
    }

    /// Calls `visit` with the key and value of each of the kernel's fields, as bytes in
    /// place: for code that visits every field (encoders) without a copy each.
    @inlinable
    public func forEachField(_ visit: (_ key: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
        withContents { bytes, fields, _ in
            for field in fields {
                visit(UnsafeBufferPointer(rebasing: bytes[field.keyRange]), UnsafeBufferPointer(rebasing: bytes[field.valueRange]))
            }
        }
    }

    /// The position in `list` of the first field named `key`; keys are compared in place.
    @inlinable
    public static func firstIndex(
        of key: StaticString, in list: UnsafeBufferPointer<RecordField>, _ bytes: UnsafeBufferPointer<UInt8>
    ) -> Int? {
        let length = Int32(key.utf8CodeUnitCount)
        return key.withUTF8Buffer { k in
            search: for index in list.indices {
                let field = list[index]
                guard field.keyEnd - field.keyStart == length else { continue }
                var i = Int(field.keyStart)
                for byte in k {
                    if bytes[i] != byte { continue search }
                    i += 1
                }
                return index
            }
            return nil
        }
    }

    /// Calls `read` with the raw value of the first field named `key`, in place.
    @inlinable
    public func withRaw<R>(_ key: StaticString, _ read: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        withContents { bytes, fields, _ in
            Self.firstIndex(of: key, in: fields, bytes).flatMap { read(UnsafeBufferPointer(rebasing: bytes[fields[$0].valueRange])) }
        }
    }

    /// An unsigned decimal field (`pid`, `uid`, `items`).
    @inlinable
    public func unsigned(_ key: StaticString) -> UInt64? { withRaw(key, ByteNumbers.decimal) }

    /// A signed decimal field (`exit`).
    @inlinable
    public func signed(_ key: StaticString) -> Int64? { withRaw(key, ByteNumbers.signedDecimal) }

    /// A field the kernel writes in hex (`arch`, `a0`…`a3`).
    @inlinable
    public func hexadecimal(_ key: StaticString) -> UInt64? { withRaw(key, ByteNumbers.hexadecimal) }

    /// Whether the user-controlled string field `key` is in neither of the kernel's forms
    /// (not quoted, and not hex of even length): decoded, it would be garbage.
    public func isMalformed(_ key: StaticString) -> Bool {
        withRaw(key) { UntrustedString.isMalformed($0) ? true : nil } ?? false
    }

    /// A user-controlled string field, decoded from its quoted or hex form; nil for `(null)`.
    public func string(_ key: StaticString) -> Bytes? {
        withRaw(key, UntrustedString.decode)
    }

    /// A plain word field (`success=yes`, `nametype=NORMAL`, `res=success`), quotes removed.
    public func word(_ key: StaticString) -> Bytes? {
        withRaw(key) { Array(UnsafeBufferPointer(rebasing: $0[Self.unquoted(0..<$0.count, in: $0)]))[...] }
    }

    // MARK: Values copied into an event's text

    /// The decoded string field `key`, appended to `text`; nil when absent or `(null)`.
    @inlinable
    public func string(_ key: StaticString, into text: inout EventText) -> TextRange? {
        withRaw(key) { text.appendDecoded($0).range }
    }

    /// The word field `key`, quotes removed, appended to `text`.
    @inlinable
    public func word(_ key: StaticString, into text: inout EventText) -> TextRange? {
        withRaw(key) { raw in text.append(UnsafeBufferPointer(rebasing: raw[Self.unquoted(0..<raw.count, in: raw)])) }
    }

    /// Calls `read` with the value at `range` of the bytes (a field's `valueRange`), in place.
    @inlinable
    public func withValue<R>(at range: Range<Int>, _ read: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        withBytes { read(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// The user-controlled string at `range` of the bytes, decoded into `text`; nil for `(null)`.
    @inlinable
    public func string(at range: Range<Int>, into text: inout EventText) -> TextRange? {
        withValue(at: range) { text.appendDecoded($0).range }
    }

    /// The word at `range` of the bytes, quotes removed, appended to `text`.
    @inlinable
    public func word(at range: Range<Int>, into text: inout EventText) -> TextRange {
        withBytes { bytes in text.append(UnsafeBufferPointer(rebasing: bytes[Self.unquoted(range, in: bytes)])) }
    }

    /// auditd's interpretation `key` (ENRICHED logs), decoded and appended to `text`.
    @inlinable
    public func interpretation(_ key: StaticString, into text: inout EventText) -> TextRange? {
        guard hasInterpretations else { return nil }
        return withContents { bytes, _, interpretations in
            Self.firstIndex(of: key, in: interpretations, bytes).flatMap {
                text.appendDecoded(UnsafeBufferPointer(rebasing: bytes[interpretations[$0].valueRange])).range
            }
        }
    }

    /// `range` without the double quotes around it, if it has them.
    @inlinable
    static func unquoted(_ range: Range<Int>, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int> {
        if range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\""), bytes[range.upperBound - 1] == UInt8(ascii: "\"") {
            return (range.lowerBound + 1)..<(range.upperBound - 1)
        }
        return range
    }
}

/// The one allocation of an `AuditRecord`: its layout, its fields, then its bytes.
@usableFromInline
final class RecordStorage: ManagedBuffer<AuditRecord.Layout, RecordField> {}
