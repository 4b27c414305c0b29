/// Decodes the kernel's encoding of strings a user controls (argv, paths, comm, exe, keys,
/// proctitle, PAM account names): quoted when plain, hex when they hold a space, quote,
/// control or non-ASCII byte, and `(null)` when absent.
public enum UntrustedString {
    /// The decoded bytes, or nil for `(null)` / `?`. A value that is neither quoted nor
    /// valid hex is returned as written (so nothing is lost), and `wasMalformed` says so.
    @inlinable
    public static func decode(_ raw: Bytes) -> Bytes? {
        decodeReportingMalformed(raw).value
    }

    /// Like `decode`, also telling whether the value was in neither of the kernel's forms.
    public static func decodeReportingMalformed(_ raw: Bytes) -> (value: Bytes?, wasMalformed: Bool) {
        guard let first = raw.first else { return (raw, false) }
        if first == UInt8(ascii: "\"") {
            // The kernel quotes only strings without a quote inside, so the value ends at
            // the closing quote; a missing one means a truncated record.
            if raw.count >= 2, raw.last == UInt8(ascii: "\"") { return (raw.dropFirst().dropLast(), false) }
            return (raw.dropFirst(), true)
        }
        if raw.equals("(null)") || raw.equals("?") || raw.equals("(none)") { return (nil, false) }
        if let decoded = hex(raw) { return (decoded, false) }
        return (raw, true)
    }

    /// Hex-decodes a whole value; nil when it has an odd length or a non-hex digit.
    @inlinable
    public static func hex(_ raw: Bytes) -> Bytes? {
        guard raw.count % 2 == 0, !raw.isEmpty else { return nil }
        var out = [UInt8](repeating: 0, count: raw.count / 2)
        var i = raw.startIndex
        var o = 0
        while i < raw.endIndex {
            guard let hi = ByteNumbers.hexNibble(raw[i]), let lo = ByteNumbers.hexNibble(raw[i + 1]) else { return nil }
            out[o] = hi << 4 | lo
            o += 1
            i += 2
        }
        return out[...]
    }

    /// Splits NUL-separated bytes (proctitle, multiple keys use 0x01) into their parts,
    /// dropping one trailing separator.
    public static func split(_ bytes: Bytes, separator: UInt8) -> [Bytes] {
        var parts: [Bytes] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == separator {
                parts.append(bytes[start..<i])
                start = i + 1
            }
            i += 1
        }
        if start < bytes.endIndex { parts.append(bytes[start..<bytes.endIndex]) }
        return parts
    }
}
