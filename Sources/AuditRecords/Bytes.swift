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

extension UnsafeMutablePointer where Pointee == UInt8 {
    /// Copies `count` bytes from `source` here. Most of an event's values are short, and
    /// for those a loop beats a call to memmove (the event's text, the JSON writer).
    @inlinable @inline(__always)
    public func copyBytes(from source: UnsafePointer<UInt8>, count: Int) {
        if count <= 16 {
            for index in 0..<count { self[index] = source[index] }
        } else {
            update(from: source, count: count)
        }
    }
}

/// Tests on eight bytes at once (a little-endian word), for the scans of the record
/// tokenizer and the JSON writer.
public enum ByteWord {
    // Computed, so that other modules inline them as constants.
    @inlinable public static var ones: UInt64 { 0x0101_0101_0101_0101 }
    @inlinable public static var highs: UInt64 { 0x8080_8080_8080_8080 }

    /// The byte `byte` in every byte of a word.
    @inlinable @inline(__always)
    public static func repeating(_ byte: UInt8) -> UInt64 { ones &* UInt64(byte) }

    /// The high bit of each zero byte of `word`. A borrow may also flag bytes after the
    /// first zero byte, never before: the lowest flag, and whether there is one, are exact.
    @inlinable @inline(__always)
    public static func zeroBytes(_ word: UInt64) -> UInt64 { (word &- ones) & ~word & highs }
}
