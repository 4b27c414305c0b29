/// One `key=value` pair of a record, as offsets into the record's bytes.
///
/// Offsets rather than copies keep parsing allocation-free; values stay encoded until
/// an interpreter asks for them (see `UntrustedString`, `ByteNumbers`).
public struct RecordField: Sendable, Equatable {
    public let keyStart: Int32
    public let keyEnd: Int32
    public let valueStart: Int32
    public let valueEnd: Int32

    @inlinable
    public init(keyStart: Int, keyEnd: Int, valueStart: Int, valueEnd: Int) {
        self.keyStart = Int32(truncatingIfNeeded: keyStart)
        self.keyEnd = Int32(truncatingIfNeeded: keyEnd)
        self.valueStart = Int32(truncatingIfNeeded: valueStart)
        self.valueEnd = Int32(truncatingIfNeeded: valueEnd)
    }

    public var keyRange: Range<Int> { Int(keyStart)..<Int(keyEnd) }
    public var valueRange: Range<Int> { Int(valueStart)..<Int(valueEnd) }
}
