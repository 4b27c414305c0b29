/// Number parsing straight from record bytes, without building strings.
///
/// The pointer forms are the ones the interpreter uses (no slice, so no retain, per
/// field); the `Bytes` forms are for everything else.
public enum ByteNumbers {
    /// An unsigned decimal number; nil when empty, not all digits, or too large.
    @inlinable
    public static func decimal(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
        var value: UInt64 = 0
        for b in bytes {
            let digit = b &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(UInt64(digit))
            guard !o1, !o2 else { return nil }
            value = s
        }
        return value
    }

    /// A signed decimal number (`exit=-13`).
    @inlinable
    public static func signedDecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> Int64? {
        if bytes.first == UInt8(ascii: "-") {
            guard let magnitude = decimal(UnsafeBufferPointer(rebasing: bytes.dropFirst())),
                  magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return decimal(bytes).flatMap { Int64(exactly: $0) }
    }

    /// An unsigned hexadecimal number, with or without `0x` (`arch=c000003e`, `a2=7`).
    @inlinable
    public static func hexadecimal(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64? {
        var digits = bytes
        if digits.count >= 2, digits[0] == UInt8(ascii: "0"), digits[1] | 0x20 == UInt8(ascii: "x") {
            digits = UnsafeBufferPointer(rebasing: digits.dropFirst(2))
        }
        guard !digits.isEmpty, digits.count <= 16 else { return nil }
        var value: UInt64 = 0
        for b in digits {
            guard let nibble = hexNibble(b) else { return nil }
            value = value << 4 | UInt64(nibble)
        }
        return value
    }

    @inlinable
    public static func decimal(_ bytes: Bytes) -> UInt64? { bytes.withUnsafeBufferPointer(decimal) }

    @inlinable
    public static func signedDecimal(_ bytes: Bytes) -> Int64? { bytes.withUnsafeBufferPointer(signedDecimal) }

    @inlinable
    public static func hexadecimal(_ bytes: Bytes) -> UInt64? { bytes.withUnsafeBufferPointer(hexadecimal) }

    /// The value of one hexadecimal digit.
    @inlinable
    public static func hexNibble(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return b &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return b &- UInt8(ascii: "a") &+ 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return b &- UInt8(ascii: "A") &+ 10
        default: return nil
        }
    }
}
