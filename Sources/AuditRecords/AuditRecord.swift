/// One kernel audit message: its type, stamp, and fields kept as byte ranges.
///
/// A record owns the bytes of its body; `fields` index into them. ENRICHED logs append
/// auditd's interpretations after a 0x1d byte; those are kept apart in `interpretations`
/// so the kernel's own values are never confused with auditd's rendering of them.
///
/// A class, immutable: records are passed from parser to assembler to event, and one
/// reference is cheaper to hand on than a struct of five (measured with Scripts/bench-parse).
public final class AuditRecord: Sendable {
    public let type: RecordType
    public let stamp: AuditStamp
    /// The `node=` name of the machine that wrote the record, when the log says.
    public let node: Bytes?
    /// The record's bytes; `fields`, `interpretations` and `node` index into them.
    public let body: [UInt8]
    /// Where the kernel's fields are in `body`.
    public let fieldsRange: Range<Int>
    /// The kernel's fields.
    public let fields: [RecordField]
    /// auditd's interpretations from an ENRICHED log (`UID="root"`, `SYSCALL=execve`).
    public let interpretations: [RecordField]
    /// The type name as the input wrote it, when `type` is not one libaudit knows.
    public let unresolvedTypeName: Bytes?

    public init(
        type: RecordType, stamp: AuditStamp, node: Bytes?, body: [UInt8], fieldsRange: Range<Int>,
        fields: [RecordField], interpretations: [RecordField], unresolvedTypeName: Bytes? = nil
    ) {
        self.type = type
        self.stamp = stamp
        self.node = node
        self.body = body
        self.fieldsRange = fieldsRange
        self.fields = fields
        self.interpretations = interpretations
        self.unresolvedTypeName = unresolvedTypeName
    }

    /// The type's name for output: libaudit's name, the input's name, or `UNKNOWN[n]`.
    public var typeName: String {
        if let name = type.name { return name }
        if let unresolved = unresolvedTypeName { return unresolved.utf8String }
        return type.description
    }

    /// The kernel's text of the record: everything after `audit(…): ` up to any
    /// interpretations.
    public var text: Bytes { body[fieldsRange] }

    /// auditd's interpretations as written after the 0x1d byte, or nil in RAW input.
    public var interpretationText: Bytes? {
        fieldsRange.upperBound < body.count ? body[(fieldsRange.upperBound + 1)...] : nil
    }

    @inlinable
    public func key(of field: RecordField) -> Bytes { body[field.keyRange] }

    @inlinable
    public func value(of field: RecordField) -> Bytes { body[field.valueRange] }

    /// The raw (still encoded) value of the first field named `key`.
    @inlinable
    public func raw(_ key: StaticString) -> Bytes? {
        firstIndex(of: key, in: fields).map { body[fields[$0].valueRange] }
    }

    /// The raw value of auditd's interpretation named `key` (ENRICHED logs only).
    @inlinable
    public func interpretation(_ key: StaticString) -> Bytes? {
        if interpretations.isEmpty { return nil }
        return firstIndex(of: key, in: interpretations).map { body[interpretations[$0].valueRange] }
    }

    /// Calls `body` with the key and value of each of the kernel's fields, as bytes in
    /// place: for code that visits every field (encoders) without a slice — a retain — each.
    @inlinable
    public func forEachField(_ visit: (_ key: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
        body.withUnsafeBufferPointer { bytes in
            fields.withUnsafeBufferPointer { fields in
                for field in fields {
                    visit(UnsafeBufferPointer(rebasing: bytes[field.keyRange]),
                         UnsafeBufferPointer(rebasing: bytes[field.valueRange]))
                }
            }
        }
    }

    /// The position in `list` of the first field named `key`. Lookups run many times per
    /// event, so keys are compared in place rather than as slices (which cost a retain each).
    @inlinable
    public func firstIndex(of key: StaticString, in list: [RecordField]) -> Int? {
        let length = Int32(key.utf8CodeUnitCount)
        return body.withUnsafeBufferPointer { b in
            key.withUTF8Buffer { k in
                list.withUnsafeBufferPointer { candidates in
                    search: for index in candidates.indices {
                        let field = candidates[index]
                        guard field.keyEnd - field.keyStart == length else { continue }
                        var i = Int(field.keyStart)
                        for byte in k {
                            if b[i] != byte { continue search }
                            i += 1
                        }
                        return index
                    }
                    return nil
                }
            }
        }
    }

    /// Calls `read` with the raw value of the first field named `key`, in place.
    @inlinable
    public func withRaw<R>(_ key: StaticString, _ read: (UnsafeBufferPointer<UInt8>) -> R?) -> R? {
        firstIndex(of: key, in: fields).flatMap { withValue(at: fields[$0].valueRange, read) }
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

    /// A user-controlled string field, decoded from its quoted or hex form; nil for `(null)`.
    public func string(_ key: StaticString) -> Bytes? { raw(key).flatMap(UntrustedString.decode) }

    /// A plain word field (`success=yes`, `nametype=NORMAL`, `res=success`), quotes removed.
    public func word(_ key: StaticString) -> Bytes? {
        guard let index = firstIndex(of: key, in: fields) else { return nil }
        return body[Self.unquoted(fields[index].valueRange, in: body)]
    }

    // MARK: Values copied into an event's text

    /// The decoded string field `key`, appended to `text`; nil when absent or `(null)`.
    @inlinable
    public func string(_ key: StaticString, into text: inout EventText) -> TextRange? {
        firstIndex(of: key, in: fields).flatMap { string(at: fields[$0].valueRange, into: &text) }
    }

    /// The word field `key`, quotes removed, appended to `text`.
    @inlinable
    public func word(_ key: StaticString, into text: inout EventText) -> TextRange? {
        firstIndex(of: key, in: fields).map { word(at: fields[$0].valueRange, into: &text) }
    }

    /// Calls `read` with the value at `range` of the body (a field's `valueRange`), in place.
    @inlinable
    public func withValue<R>(at range: Range<Int>, _ read: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        body.withUnsafeBufferPointer { read(UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// The user-controlled string at `range` of the body, decoded into `text`; nil for `(null)`.
    @inlinable
    public func string(at range: Range<Int>, into text: inout EventText) -> TextRange? {
        withValue(at: range) { text.appendDecoded($0).range }
    }

    /// The word at `range` of the body, quotes removed, appended to `text`.
    @inlinable
    public func word(at range: Range<Int>, into text: inout EventText) -> TextRange {
        withValue(at: Self.unquoted(range, in: body)) { text.append($0) }
    }

    /// auditd's interpretation `key` (ENRICHED logs), decoded and appended to `text`.
    @inlinable
    public func interpretation(_ key: StaticString, into text: inout EventText) -> TextRange? {
        guard !interpretations.isEmpty, let index = firstIndex(of: key, in: interpretations) else { return nil }
        return string(at: interpretations[index].valueRange, into: &text)
    }

    /// `range` without the double quotes around it, if it has them.
    @inlinable
    static func unquoted(_ range: Range<Int>, in body: [UInt8]) -> Range<Int> {
        if range.count >= 2, body[range.lowerBound] == UInt8(ascii: "\""), body[range.upperBound - 1] == UInt8(ascii: "\"") {
            return (range.lowerBound + 1)..<(range.upperBound - 1)
        }
        return range
    }
}
