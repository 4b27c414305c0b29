/// A view of bytes from the kernel or a log file, kept undecoded until somebody needs them.
///
/// Audit data is attacker-influenced and need not be valid UTF-8, so nodeaudit carries
/// bytes, not `String`s, from the input to the encoder.
public typealias Bytes = ArraySlice<UInt8>

extension ArraySlice where Element == UInt8 {
    /// Whether these bytes equal an ASCII literal, without allocating.
    @inlinable
    public func equals(_ literal: StaticString) -> Bool {
        count == literal.utf8CodeUnitCount && hasPrefix(literal)
    }

    /// Whether these bytes start with an ASCII literal.
    @inlinable
    public func hasPrefix(_ literal: StaticString) -> Bool {
        guard count >= literal.utf8CodeUnitCount else { return false }
        return literal.withUTF8Buffer { lit in
            var i = startIndex
            for b in lit {
                if self[i] != b { return false }
                i += 1
            }
            return true
        }
    }

    /// The bytes as a Swift string, invalid UTF-8 repaired; for messages and tests, not the hot path.
    public var utf8String: String { String(decoding: self, as: UTF8.self) }
}

extension Array where Element == UInt8 {
    /// The bytes of a string, as an `ArraySlice` usable wherever record bytes are.
    public init(ascii string: String) { self = Array(string.utf8) }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Whether these bytes equal an ASCII literal. Inlined, so that the literal's length
    /// and bytes are constants where it is called (field names, once per field).
    @inlinable @inline(__always)
    public func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        guard literal.hasPointerRepresentation else { return literal.withUTF8Buffer { elementsEqual($0) } }
        let bytes = literal.utf8Start
        for i in 0..<count where self[i] != bytes[i] { return false }
        return true
    }
}
