/// Splits the body of an audit record into `key=value` fields.
///
/// Values end at a space unless they open with `"` (to the next `"`), `'` (to the next
/// `'`) or `{` (to the next `}`, as in ENRICHED `SADDR={ … }`). The inner fields of a
/// userspace message, `msg='op=… acct=… res=…'`, are flattened into the record like
/// libauparse does, so `acct` and `res` are ordinary fields. A word without `=` right
/// after an unquoted value continues it (`op=adding group` from useradd); other words
/// without `=` (free text in some kernel records) are skipped.
enum FieldTokenizer {
    /// Appends the fields of `range` of `bytes` to `fields`.
    static func tokenize(_ bytes: UnsafeBufferPointer<UInt8>, in range: Range<Int>, into fields: inout FieldCollector) {
        let floor = fields.count
        tokenize(bytes, range.lowerBound, range.upperBound, into: &fields, floor: floor, depth: 0)
    }

    private static let space = UInt8(ascii: " ")
    private static let equals = UInt8(ascii: "=")

    /// `floor`: fields before it belong to another list (the kernel's fields, when
    /// interpretations are read) and are never continued.
    private static func tokenize(
        _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int,
        into fields: inout FieldCollector, floor: Int, depth: Int
    ) {
        var i = start
        while i < end {
            while i < end, b[i] == space { i += 1 }
            guard i < end else { return }
            var keyStart = i
            i = firstIndex(of: equals, or: space, in: b, from: i, to: end)
            guard i < end, b[i] == equals else {
                // A word without '=': part of the previous bare value when it directly follows one.
                if fields.count > floor, case let last = fields.last, Int(last.valueEnd) < keyStart,
                   last.valueEnd > last.valueStart, closing(b[Int(last.valueStart)]) == nil,
                   !isNestedBoundary(b, Int(last.valueEnd), keyStart), hasWordCharacter(b, keyStart, i) {
                    fields.replaceLast(RecordField(keyStart: Int(last.keyStart), keyEnd: Int(last.keyEnd),
                                                   valueStart: Int(last.valueStart), valueEnd: i))
                }
                continue
            }
            let keyEnd = i
            // Old PAM messages: `PAM: session open acct=root : exe="…" (hostname=?, addr=?, …)`;
            // inside a message, a key may follow a parenthesis.
            if depth > 0, b[keyStart] == UInt8(ascii: "("), keyStart + 1 < keyEnd { keyStart += 1 }
            i += 1
            let valueStart = i
            var valueEnd: Int
            let opening = i < end ? b[i] : space
            if opening == UInt8(ascii: "'"), depth == 0, isKey("msg", b, keyStart, keyEnd) {
                // A user-space message: its values may be double-quoted and hold a `'`
                // (libaudit does not encode it in `acct="a'b"`), so the message ends at the
                // first `'` outside double quotes. Its fields are the record's.
                i = endOfMessage(b, from: i + 1, to: end)
                if i - valueStart >= 2, b[i - 1] == UInt8(ascii: "'") {
                    tokenize(b, valueStart + 1, i - 1, into: &fields, floor: floor, depth: depth + 1)
                    continue
                }
                valueEnd = i
            } else if let close = closing(opening) {
                i = firstIndex(of: close, or: close, in: b, from: i + 1, to: end)
                if i < end { i += 1 }  // include the closing delimiter
                valueEnd = i
            } else {
                i = firstIndex(of: space, or: space, in: b, from: i, to: end)
                valueEnd = i
                // … and a bare value may end the list (`hostname=?,`, `res=success)`).
                while depth > 0, valueEnd > valueStart, b[valueEnd - 1] == UInt8(ascii: ",") || b[valueEnd - 1] == UInt8(ascii: ")") {
                    valueEnd -= 1
                }
            }
            if keyEnd == keyStart { continue }
            fields.append(RecordField(keyStart: keyStart, keyEnd: keyEnd, valueStart: valueStart, valueEnd: valueEnd))
        }
    }

    /// The index of the first `first` or `second` byte from `start`, or `end`: eight bytes
    /// at a time (values such as argv and proctitle run to hundreds of bytes).
    @inline(__always)
    private static func firstIndex(
        of first: UInt8, or second: UInt8, in b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int
    ) -> Int {
        var i = start
        if let base = b.baseAddress {
            let firsts = ByteWord.repeating(first)
            let seconds = ByteWord.repeating(second)
            while i + 8 <= end {
                let word = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                // A zero byte of either is a match; the lowest flag is the first byte in memory.
                let found = ByteWord.zeroBytes(word ^ firsts) | ByteWord.zeroBytes(word ^ seconds)
                if found != 0 { return i + found.trailingZeroBitCount / 8 }
                i += 8
            }
        }
        while i < end, b[i] != first, b[i] != second { i += 1 }
        return i
    }

    @inline(__always)
    private static func isKey(_ name: StaticString, _ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        UnsafeBufferPointer(rebasing: b[start..<end]).equals(name)
    }

    /// The index after the `'` that closes a message begun before `start`: the first one
    /// outside double quotes; without one, the first `'` at all (a message cut short
    /// keeps what the plain rule gives), else `end`.
    private static func endOfMessage(_ b: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int {
        var i = start
        var inQuotes = false
        while i < end {
            switch b[i] {
            case UInt8(ascii: "\""): inQuotes.toggle()
            case UInt8(ascii: "'") where !inQuotes: return i + 1
            default: break
            }
            i += 1
        }
        let plain = firstIndex(of: UInt8(ascii: "'"), or: UInt8(ascii: "'"), in: b, from: start, to: end)
        return plain < end ? plain + 1 : end
    }

    /// Whether `start..<end` holds a letter or digit: punctuation alone (the `:` of old PAM
    /// messages) continues no value.
    private static func hasWordCharacter(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var k = start
        while k < end {
            let byte = b[k] | 0x20
            if (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (b[k] >= UInt8(ascii: "0") && b[k] <= UInt8(ascii: "9")) || b[k] >= 0x80 {
                return true
            }
            k += 1
        }
        return false
    }

    /// Whether anything but spaces lies between the previous value and this word (then
    /// they are not one value).
    private static func isNestedBoundary(_ b: UnsafeBufferPointer<UInt8>, _ from: Int, _ to: Int) -> Bool {
        var k = from
        while k < to {
            if b[k] != space { return true }
            k += 1
        }
        return false
    }

    @inline(__always)
    private static func closing(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "\""): return UInt8(ascii: "\"")
        case UInt8(ascii: "'"): return UInt8(ascii: "'")
        case UInt8(ascii: "{"): return UInt8(ascii: "}")
        default: return nil
        }
    }
}

/// The fields of the record being parsed: in stack memory the parser provides for the usual
/// few dozen, on the heap beyond, so that parsing allocates only the record itself.
struct FieldCollector {
    private let inline: UnsafeMutableBufferPointer<RecordField>
    /// All fields, once there are more than `inline` holds.
    private var spill: [RecordField] = []
    private(set) var count = 0

    init(storage: UnsafeMutableBufferPointer<RecordField>) {
        inline = storage
    }

    @inline(__always)
    mutating func append(_ field: RecordField) {
        if count < inline.count {
            inline[count] = field
        } else {
            if spill.isEmpty { spill = Array(inline) }
            spill.append(field)
        }
        count += 1
    }

    /// The last field; only when `count > 0`.
    @inline(__always)
    var last: RecordField { count <= inline.count ? inline[count - 1] : spill[count - 1] }

    mutating func replaceLast(_ field: RecordField) {
        if count <= inline.count { inline[count - 1] = field } else { spill[count - 1] = field }
    }

    func withFields<R>(_ read: (UnsafeBufferPointer<RecordField>) -> R) -> R {
        if count <= inline.count { return read(UnsafeBufferPointer(rebasing: inline[..<count])) }
        return spill.withUnsafeBufferPointer(read)
    }
}
