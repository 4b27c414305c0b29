import AuditRecords

/// Writes JSON straight into a byte buffer, escaping every string so that any input —
/// quotes, newlines, ANSI escapes, invalid UTF-8 — stays inside one JSON string on one line.
///
/// Invalid UTF-8 is replaced by U+FFFD per invalid sequence; control characters and DEL
/// are written as `\u00XX`. Objects track commas so encoders only name keys and values.
public struct JSONWriter {
    public private(set) var buffer: [UInt8] = []
    /// Whether the next member of the current object or array needs a comma first.
    private var needsComma = false

    public init(capacity: Int = 4096) {
        buffer.reserveCapacity(capacity)
    }

    public mutating func removeAll() {
        buffer.removeAll(keepingCapacity: true)
        needsComma = false
    }

    // MARK: Structure

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        separate()
        buffer.append(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        buffer.append(bracket)
        needsComma = true
    }

    /// Writes `"key":` inside an object; the next write is its value. Keys are nodeaudit's
    /// own ASCII names.
    public mutating func key(_ key: StaticString) {
        separate()
        buffer.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { buffer.append(contentsOf: $0) }
        buffer.append(UInt8(ascii: "\""))
        buffer.append(UInt8(ascii: ":"))
        needsComma = false
    }

    /// Writes a key that is not a literal (record field names), escaped like any string.
    public mutating func key(bytes: Bytes) {
        string(bytes)
        buffer.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func newline() {
        buffer.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    // MARK: Values

    public mutating func string(_ bytes: Bytes) {
        separate()
        buffer.append(UInt8(ascii: "\""))
        appendEscaped(bytes)
        buffer.append(UInt8(ascii: "\""))
        needsComma = true
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { utf8 in
            separate()
            buffer.append(UInt8(ascii: "\""))
            appendEscaped(utf8)
            buffer.append(UInt8(ascii: "\""))
        }
        needsComma = true
    }

    public mutating func number<T: BinaryInteger>(_ value: T) {
        separate()
        appendDecimal(value)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            buffer.append(contentsOf: [0x74, 0x72, 0x75, 0x65])  // true
        } else {
            buffer.append(contentsOf: [0x66, 0x61, 0x6c, 0x73, 0x65])  // false
        }
        needsComma = true
    }

    public mutating func null() {
        separate()
        buffer.append(contentsOf: [0x6e, 0x75, 0x6c, 0x6c])  // null
        needsComma = true
    }

    /// Appends bytes that are already valid JSON text inside a string (no quotes, no escaping).
    public mutating func rawStringContent(_ bytes: UnsafeBufferPointer<UInt8>) {
        buffer.append(contentsOf: bytes)
    }

    /// Opens a string whose content the caller appends with `rawStringContent`.
    public mutating func beginString() {
        separate()
        buffer.append(UInt8(ascii: "\""))
    }

    public mutating func endString() {
        buffer.append(UInt8(ascii: "\""))
        needsComma = true
    }

    // MARK: - Internals

    @inline(__always)
    private mutating func separate() {
        if needsComma { buffer.append(UInt8(ascii: ",")) }
    }

    private mutating func appendDecimal<T: BinaryInteger>(_ value: T) {
        if value < 0 {
            buffer.append(UInt8(ascii: "-"))
            appendDecimal(UInt64(value.magnitude))
            return
        }
        var v = UInt64(value)
        if v < 10 {
            buffer.append(UInt8(ascii: "0") &+ UInt8(v))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch
        withUnsafeMutableBytes(of: &digits) { scratch in
            var i = scratch.count
            while v > 0 {
                i -= 1
                scratch[i] = UInt8(ascii: "0") &+ UInt8(v % 10)
                v /= 10
            }
            buffer.append(contentsOf: scratch[i...])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    private mutating func appendEscaped(_ bytes: Bytes) {
        bytes.withUnsafeBufferPointer { appendEscaped($0) }
    }

    /// Copies runs of plain bytes at once; escapes `"`, `\`, controls and DEL; validates
    /// UTF-8 and replaces invalid sequences.
    private mutating func appendEscaped(_ b: UnsafeBufferPointer<UInt8>) {
        var runStart = 0
        var i = 0
        let n = b.count
        while i < n {
            let c = b[i]
            if c >= 0x20 && c < 0x7f && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") {
                i += 1
                continue
            }
            if c >= 0x80 {
                let length = Self.validUTF8SequenceLength(b, at: i)
                if length > 0 {
                    i += length
                    continue
                }
                flush(b, runStart, i)
                buffer.append(contentsOf: [0xEF, 0xBF, 0xBD])  // U+FFFD
                i += 1
                runStart = i
                continue
            }
            flush(b, runStart, i)
            switch c {
            case UInt8(ascii: "\""): buffer.append(contentsOf: [0x5c, 0x22])
            case UInt8(ascii: "\\"): buffer.append(contentsOf: [0x5c, 0x5c])
            case 0x0a: buffer.append(contentsOf: [0x5c, 0x6e])  // \n
            case 0x0d: buffer.append(contentsOf: [0x5c, 0x72])  // \r
            case 0x09: buffer.append(contentsOf: [0x5c, 0x74])  // \t
            default:
                buffer.append(contentsOf: [0x5c, 0x75, 0x30, 0x30])  // \u00
                buffer.append(Self.hexDigits[Int(c >> 4)])
                buffer.append(Self.hexDigits[Int(c & 0xf)])
            }
            i += 1
            runStart = i
        }
        flush(b, runStart, n)
    }

    @inline(__always)
    private mutating func flush(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
        if end > start { buffer.append(contentsOf: UnsafeBufferPointer(rebasing: b[start..<end])) }
    }

    /// The length of a well-formed UTF-8 sequence starting at `i` (RFC 3629: no
    /// overlongs, no surrogates, nothing above U+10FFFF), or 0.
    static func validUTF8SequenceLength(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int {
        let n = b.count
        let c0 = b[i]
        @inline(__always) func cont(_ k: Int) -> Bool { k < n && b[k] & 0xC0 == 0x80 }
        switch c0 {
        case 0xC2...0xDF:
            return cont(i + 1) ? 2 : 0
        case 0xE0:
            return i + 1 < n && (0xA0...0xBF).contains(b[i + 1]) && cont(i + 2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF:
            return cont(i + 1) && cont(i + 2) ? 3 : 0
        case 0xED:
            return i + 1 < n && (0x80...0x9F).contains(b[i + 1]) && cont(i + 2) ? 3 : 0
        case 0xF0:
            return i + 1 < n && (0x90...0xBF).contains(b[i + 1]) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF1...0xF3:
            return cont(i + 1) && cont(i + 2) && cont(i + 3) ? 4 : 0
        case 0xF4:
            return i + 1 < n && (0x80...0x8F).contains(b[i + 1]) && cont(i + 2) && cont(i + 3) ? 4 : 0
        default:
            return 0
        }
    }
}
