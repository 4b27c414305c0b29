/// Decodes the kernel's encoding of strings a user controls (argv, paths, comm, exe, keys,
/// proctitle, PAM account names): quoted when plain, hex when they hold a space, quote,
/// control or non-ASCII byte, and `(null)` when absent.
public enum UntrustedString {
    /// How a raw value is written, told from its bytes before any is copied.
    public enum Form: Equatable, Sendable {
        /// Quoted: the value is the bytes in `inner`; `isTerminated` is false when the
        /// closing quote is missing (a truncated record).
        case quoted(inner: Range<Int>, isTerminated: Bool)
        /// `(null)`, `?` or `(none)`: no value.
        case absent
        /// Unquoted: hex, if it decodes; otherwise malformed and kept as written.
        case unquoted
    }

    @inlinable
    public static func form(_ raw: UnsafeBufferPointer<UInt8>) -> Form {
        guard let first = raw.first else { return .unquoted }
        if first == UInt8(ascii: "\"") {
            // The kernel quotes only strings without a quote inside, so the value ends at
            // the closing quote.
            if raw.count >= 2, raw[raw.count - 1] == UInt8(ascii: "\"") {
                return .quoted(inner: 1..<(raw.count - 1), isTerminated: true)
            }
            return .quoted(inner: 1..<raw.count, isTerminated: false)
        }
        if raw.equals("(null)") || raw.equals("?") || raw.equals("(none)") { return .absent }
        return .unquoted
    }

    /// Whether `raw` is in neither of the kernel's forms (see `decodeReportingMalformed`).
    public static func isMalformed(_ raw: UnsafeBufferPointer<UInt8>) -> Bool {
        switch form(raw) {
        case .quoted(_, let isTerminated): return !isTerminated
        case .absent: return false
        case .unquoted:
            guard !raw.isEmpty else { return false }
            guard raw.count % 2 == 0 else { return true }
            return raw.contains { ByteNumbers.hexNibble($0) == nil }
        }
    }

    /// The decoded bytes, or nil for `(null)` / `?`. A value that is neither quoted nor
    /// valid hex is returned as written (so nothing is lost), and `wasMalformed` says so.
    @inlinable
    public static func decode(_ raw: Bytes) -> Bytes? {
        decodeReportingMalformed(raw).value
    }

    /// The decoded bytes of a value read in place, copied; nil for `(null)` / `?`.
    public static func decode(_ raw: UnsafeBufferPointer<UInt8>) -> Bytes? {
        var text = EventText(capacity: raw.count)
        return text.appendDecoded(raw).range.map { text[$0] }
    }

    /// Like `decode`, also telling whether the value was in neither of the kernel's forms.
    public static func decodeReportingMalformed(_ raw: Bytes) -> (value: Bytes?, wasMalformed: Bool) {
        switch raw.withUnsafeBufferPointer(form) {
        case .quoted(let inner, let isTerminated):
            return (raw[(raw.startIndex + inner.lowerBound)..<(raw.startIndex + inner.upperBound)], !isTerminated)
        case .absent:
            return (nil, false)
        case .unquoted:
            if raw.isEmpty { return (raw, false) }
            if let decoded = hex(raw) { return (decoded, false) }
            return (raw, true)
        }
    }

    /// Hex-decodes a whole value; nil when it has an odd length or a non-hex digit.
    public static func hex(_ raw: Bytes) -> Bytes? {
        guard raw.count % 2 == 0, !raw.isEmpty else { return nil }
        var out = [UInt8](repeating: 0, count: raw.count / 2)
        let decoded = raw.withUnsafeBufferPointer { source in
            out.withUnsafeMutableBufferPointer { hex(source, into: $0) }
        }
        return decoded ? out[...] : nil
    }

    /// Hex-decodes `raw` into `out` (half its length); false when a byte is no hex digit,
    /// and `out` is then not to be used. Every title of more than one word comes this way:
    /// a digit's value is looked up, not worked out by ranges, and the bytes are checked
    /// together at the end.
    public static func hex(_ raw: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Bool {
        let pairs = min(raw.count / 2, out.count)
        guard pairs > 0, let source = raw.baseAddress, let target = out.baseAddress else { return true }
        return hexDigitValues.withUnsafeBufferPointer { values in
            var seen: UInt8 = 0
            for pair in 0..<pairs {
                let high = values[Int(source[2 * pair])], low = values[Int(source[2 * pair + 1])]
                seen |= high | low
                target[pair] = high << 4 | low
            }
            return seen & notADigit == 0
        }
    }

    /// Each byte's value as a hex digit, `notADigit` for the bytes that are none.
    private static let hexDigitValues: [UInt8] = (0...255).map { ByteNumbers.hexNibble(UInt8($0)) ?? notADigit }
    private static let notADigit: UInt8 = 0x80
}
