import AuditRecords

/// Writes JSON straight into a byte buffer, escaping every string so that any input —
/// quotes, newlines, ANSI escapes, invalid UTF-8 — stays inside one JSON string on one line.
///
/// Invalid UTF-8 is replaced by U+FFFD per invalid sequence; control characters and DEL
/// are written as `\u00XX`. Objects track commas so encoders only name keys and values.
///
/// The bytes live in a region the writer owns (`ByteStorage`), appended to without the
/// uniqueness check an `Array` makes on every append: an event is some hundred appends.
/// A writer is used in place (`inout`) and cannot be copied: a copy would share that
/// region with its original.
public struct JSONWriter: ~Copyable {
    private let storage: ByteStorage
    /// Whether the next member of the current object or array needs a comma first.
    private var needsComma = false
    /// The last second a time was written in (`time(_:)`).
    var recentTime = RecentTimestamp()

    public init(capacity: Int = 4096) {
        storage = ByteStorage(capacity: capacity)
    }

    /// The bytes written so far, as an array (a copy, for handing to a sink).
    public var buffer: [UInt8] { Array(storage.bytes) }

    /// Calls `read` with the bytes written so far, in place.
    public func withBytes<R, E: Error>(_ read: (UnsafeBufferPointer<UInt8>) throws(E) -> R) throws(E) -> R {
        try read(storage.bytes)
    }

    /// The number of bytes written so far.
    public var count: Int { storage.count }

    public var isEmpty: Bool { storage.count == 0 }

    public mutating func removeAll() {
        storage.count = 0
        needsComma = false
    }

    /// Drops what was written after the first `count` bytes, which end a line.
    public mutating func truncate(to count: Int) {
        storage.count = min(count, storage.count)
        needsComma = false
    }

    /// Reopens the object that ends the last line (`…}\n`), so members can be added to it.
    /// False when the last line does not end that way.
    public mutating func reopenLastObject() -> Bool {
        let bytes = storage.bytes
        guard bytes.count >= 2, bytes[bytes.count - 1] == UInt8(ascii: "\n"), bytes[bytes.count - 2] == UInt8(ascii: "}") else {
            return false
        }
        storage.count -= 2
        needsComma = bytes.count > 2 && bytes[bytes.count - 3] != UInt8(ascii: "{")
        return true
    }

    // MARK: Structure

    public mutating func beginObject() { open(UInt8(ascii: "{")) }
    public mutating func endObject() { close(UInt8(ascii: "}")) }
    public mutating func beginArray() { open(UInt8(ascii: "[")) }
    public mutating func endArray() { close(UInt8(ascii: "]")) }

    private mutating func open(_ bracket: UInt8) {
        separate()
        storage.append(bracket)
        needsComma = false
    }

    private mutating func close(_ bracket: UInt8) {
        storage.append(bracket)
        needsComma = true
    }

    /// Writes `"key":` inside an object; the next write is its value. Keys are nodeaudit's
    /// own ASCII names. Inlined: the literal's length is then a constant, and the copy a
    /// few stores (an event has some sixty keys).
    @inline(__always)
    public mutating func key(_ key: StaticString) {
        if key.hasPointerRepresentation {
            _ = appendQuoted(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount), colon: true, checked: false)
        } else {
            key.withUTF8Buffer { _ = appendQuoted($0, colon: true, checked: false) }
        }
        needsComma = false
    }

    /// Writes a key that is not a literal (a record's field name, in place), escaped like
    /// any string.
    public mutating func key(bytes: UnsafeBufferPointer<UInt8>) {
        string(bytes)
        storage.append(UInt8(ascii: ":"))
        needsComma = false
    }

    public mutating func newline() {
        storage.append(UInt8(ascii: "\n"))
        needsComma = false
    }

    // MARK: Values

    public mutating func string(_ bytes: Bytes) {
        bytes.withUnsafeBufferPointer { string($0) }
    }

    /// A string from bytes in place (a record's field), escaped.
    public mutating func string(_ bytes: UnsafeBufferPointer<UInt8>) {
        // Nothing to escape, the usual case: checked and copied in one pass.
        if appendQuoted(bytes, colon: false, checked: true) {
            needsComma = true
            return
        }
        separate()
        storage.append(UInt8(ascii: "\""))
        appendEscaped(bytes)
        storage.append(UInt8(ascii: "\""))
        needsComma = true
    }

    /// Appends `[,]"bytes"[:]` with one capacity check (a key or a value: an event has
    /// some sixty of each), copying eight bytes at a time. With `checked`, bytes that need
    /// escaping (`needsEscapeOrCheck`) stop it before anything is committed: it returns
    /// false and the caller escapes them.
    @inline(__always)
    private mutating func appendQuoted(_ source: UnsafeBufferPointer<UInt8>, colon: Bool, checked: Bool) -> Bool {
        let count = source.count
        var out = storage.reserve(count + 4)
        if needsComma {
            out.pointee = UInt8(ascii: ",")
            out += 1
        }
        out.pointee = UInt8(ascii: "\"")
        out += 1
        if let base = source.baseAddress {
            let from = UnsafeRawPointer(base)
            let to = UnsafeMutableRawPointer(out)
            if count >= 8 {
                var index = 0
                while index + 8 <= count {
                    let word = from.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                    if checked, Self.needsEscapeOrCheck(word) { return false }
                    to.storeBytes(of: word, toByteOffset: index, as: UInt64.self)
                    index += 8
                }
                if index < count {
                    // The last eight bytes, overlapping the ones already copied.
                    let word = from.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                    if checked, Self.needsEscapeOrCheck(word) { return false }
                    to.storeBytes(of: word, toByteOffset: count - 8, as: UInt64.self)
                }
            } else if count >= 4 {
                // Four to seven bytes: the first four and the last four, overlapping.
                let head = from.loadUnaligned(as: UInt32.self)
                let tail = from.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                if checked, Self.needsEscapeOrCheck(UInt64(head) | UInt64(tail) << 32) { return false }
                to.storeBytes(of: head, as: UInt32.self)
                to.storeBytes(of: tail, toByteOffset: count - 4, as: UInt32.self)
            } else {
                for index in 0..<count {
                    let c = base[index]
                    if checked, !Self.isPlain(c) { return false }
                    out[index] = c
                }
            }
        }
        out += count
        out.pointee = UInt8(ascii: "\"")
        out += 1
        if colon {
            out.pointee = UInt8(ascii: ":")
            out += 1
        }
        storage.advance(to: out)
        return true
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string($0) }
    }

    /// `"key":"value"` when there is a value, nothing when it is nil.
    public mutating func member(_ key: StaticString, _ value: Bytes?) {
        guard let value else { return }
        self.key(key)
        string(value)
    }

    public mutating func member(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        string(value)
    }

    public mutating func member<T: BinaryInteger>(_ key: StaticString, _ value: T?) {
        guard let value else { return }
        self.key(key)
        number(value)
    }

    public mutating func number<T: BinaryInteger>(_ value: T) {
        separate()
        appendDecimal(value)
        needsComma = true
    }

    public mutating func bool(_ value: Bool) {
        separate()
        if value {
            storage.append("true")
        } else {
            storage.append("false")
        }
        needsComma = true
    }

    public mutating func null() {
        separate()
        storage.append("null")
        needsComma = true
    }

    /// Appends a value that is already valid JSON text (a number as read, an object
    /// encoded by another writer).
    public mutating func rawValue(_ bytes: UnsafeBufferPointer<UInt8>) {
        separate()
        storage.append(bytes)
        needsComma = true
    }

    /// Writes again a value this writer wrote earlier in the same line, at `range` of its
    /// bytes (`count` before and after it): one copy instead of encoding it again.
    public mutating func repeatValue(at range: Range<Int>) {
        separate()
        storage.appendCopy(of: range)
        needsComma = true
    }

    /// Appends bytes that are already valid JSON text inside a string (no quotes, no escaping).
    public mutating func rawStringContent(_ bytes: UnsafeBufferPointer<UInt8>) {
        storage.append(bytes)
    }

    /// Appends ASCII text that needs no escaping inside a string opened with `beginString`.
    public mutating func rawStringContent(_ literal: StaticString) {
        storage.append(literal)
    }

    /// Appends bytes, escaped, inside a string opened with `beginString`.
    public mutating func escapedStringContent(_ bytes: Bytes) {
        appendEscaped(bytes)
    }

    public mutating func escapedStringContent(_ bytes: UnsafeBufferPointer<UInt8>) {
        appendEscaped(bytes)
    }

    /// Appends a decimal number inside a string opened with `beginString`, at least
    /// `width` digits (zero-padded).
    public mutating func decimalStringContent(_ value: UInt64, width: Int = 1) {
        for _ in 0..<max(0, width - Self.decimalDigitCount(value)) { storage.append(UInt8(ascii: "0")) }
        appendDecimal(value)
    }

    /// Opens a string whose content the caller appends with `rawStringContent`.
    public mutating func beginString() {
        separate()
        storage.append(UInt8(ascii: "\""))
    }

    public mutating func endString() {
        storage.append(UInt8(ascii: "\""))
        needsComma = true
    }

    // MARK: Values of an event's text

    /// A value of an event (`TextRange`), read in place from the event's text.
    public mutating func string(_ value: TextRange, in text: UnsafeBufferPointer<UInt8>) {
        string(UnsafeBufferPointer(rebasing: text[value.range]))
    }

    /// `"key":"value"` for a value of an event, nothing when it is nil.
    public mutating func member(_ key: StaticString, _ value: TextRange?, in text: UnsafeBufferPointer<UInt8>) {
        guard let value else { return }
        self.key(key)
        string(value, in: text)
    }

    /// An array of an event's values (argv, proctitle, keys).
    public mutating func array(_ values: [TextRange], in text: UnsafeBufferPointer<UInt8>) {
        beginArray()
        for value in values { string(value, in: text) }
        endArray()
    }

    /// An array of parts of an event's text given by position (technique ids in keys).
    public mutating func array(_ ranges: [Range<Int>], in text: UnsafeBufferPointer<UInt8>) {
        beginArray()
        for range in ranges { string(UnsafeBufferPointer(rebasing: text[range])) }
        endArray()
    }

    // MARK: - Internals

    @inline(__always)
    private mutating func separate() {
        if needsComma { storage.append(UInt8(ascii: ",")) }
    }

    private mutating func appendDecimal<T: BinaryInteger>(_ value: T) {
        if value < 0 {
            storage.append(UInt8(ascii: "-"))
            appendDecimal(UInt64(value.magnitude))
            return
        }
        appendDecimal(UInt64(value))
    }

    /// Writes the digits straight into the output, two at a time from the right, once
    /// their count is known: serials, pids and exit codes are some ten numbers an event.
    private mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            storage.append(UInt8(ascii: "0") &+ UInt8(value))
            return
        }
        let count = Self.decimalDigitCount(value)
        let out = storage.reserve(count)
        var rest = value
        var end = count
        while rest >= 100 {
            end -= 2
            Self.writeTwoDigits(Int(rest % 100), to: out + end)
            rest /= 100
        }
        if rest >= 10 {
            Self.writeTwoDigits(Int(rest), to: out)
        } else {
            out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest)
        }
        storage.advance(to: out + count)
    }

    /// How many decimal digits `value` has.
    @inline(__always)
    private static func decimalDigitCount(_ value: UInt64) -> Int {
        var count = 1
        var bound: UInt64 = 10
        while count < 20, value >= bound {
            count += 1
            bound &*= 10
        }
        return count
    }

    /// Writes `pair` (0...99) as two digits.
    @inline(__always)
    private static func writeTwoDigits(_ pair: Int, to out: UnsafeMutablePointer<UInt8>) {
        let tens = (pair &* 103) >> 10  // pair / 10 for pair < 100
        out[0] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tens)
        out[1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: pair &- tens &* 10)
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
            // Eight plain ASCII bytes at a time, the common case.
            if i + 8 <= n, let base = b.baseAddress, !Self.needsEscapeOrCheck(UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)) {
                i += 8
                continue
            }
            let c = b[i]
            if Self.isPlain(c) {
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
                storage.append([0xEF, 0xBF, 0xBD])  // U+FFFD
                i += 1
                runStart = i
                continue
            }
            flush(b, runStart, i)
            switch c {
            case UInt8(ascii: "\""): storage.append([0x5c, 0x22])
            case UInt8(ascii: "\\"): storage.append([0x5c, 0x5c])
            case 0x0a: storage.append([0x5c, 0x6e])  // \n
            case 0x0d: storage.append([0x5c, 0x72])  // \r
            case 0x09: storage.append([0x5c, 0x74])  // \t
            default:
                storage.append([0x5c, 0x75, 0x30, 0x30])  // \u00
                storage.append(Self.hexDigits[Int(c >> 4)])
                storage.append(Self.hexDigits[Int(c & 0xf)])
            }
            i += 1
            runStart = i
        }
        flush(b, runStart, n)
    }

    /// Whether any of eight bytes is a control, `"`, `\\`, DEL or not ASCII (which then
    /// needs a look byte by byte).
    @inline(__always)
    private static func needsEscapeOrCheck(_ word: UInt64) -> Bool {
        let ones = ByteWord.ones, highs = ByteWord.highs
        // One branch for all five tests. A borrow or carry between bytes only comes from
        // a byte that is flagged itself, so the answer for the word stays exact.
        let nonASCIIOrDEL = (word | (word &+ ones)) & highs   // ≥ 0x80, or 0x7F
        let control = (word &- ByteWord.repeating(0x20)) & ~word & highs  // < 0x20
        let quote = ByteWord.zeroBytes(word ^ ByteWord.repeating(UInt8(ascii: "\"")))
        let backslash = ByteWord.zeroBytes(word ^ ByteWord.repeating(UInt8(ascii: "\\")))
        return nonASCIIOrDEL | control | quote | backslash != 0
    }

    /// Whether a byte goes into a JSON string as it is: printable ASCII but `"` and `\\`.
    @inline(__always)
    private static func isPlain(_ c: UInt8) -> Bool {
        c >= 0x20 && c < 0x7f && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\")
    }

    @inline(__always)
    private mutating func flush(_ b: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) {
        if end > start { storage.append(UnsafeBufferPointer(rebasing: b[start..<end])) }
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

/// The bytes of a `JSONWriter`: a growable region appended to through a pointer.
final class ByteStorage {
    private(set) var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    var bytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: base, count: count) }

    @inline(__always)
    func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: count + 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, bytes.count > 0 else { return }
        if count + bytes.count > capacity { grow(toHold: count + bytes.count) }
        (base + count).copyBytes(from: source, count: bytes.count)
        count += bytes.count
    }

    /// Appends a copy of bytes already written, at `range` (room is made first: growing
    /// moves them).
    @inline(__always)
    func appendCopy(of range: Range<Int>) {
        let out = reserve(range.count)
        out.copyBytes(from: base + range.lowerBound, count: range.count)
        count += range.count
    }

    /// Makes room for `extra` bytes and returns where they go; `advance(to:)` commits them.
    @inline(__always)
    func reserve(_ extra: Int) -> UnsafeMutablePointer<UInt8> {
        if count + extra > capacity { grow(toHold: count + extra) }
        return base + count
    }

    /// Commits bytes written through `reserve`, up to `end`.
    @inline(__always)
    func advance(to end: UnsafeMutablePointer<UInt8>) {
        count = base.distance(to: end)
    }

    @inline(__always)
    func append(_ bytes: UnsafeRawBufferPointer) {
        append(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// Appends an ASCII literal (nodeaudit's keys), straight from its static bytes.
    @inline(__always)
    func append(_ literal: StaticString) {
        if literal.hasPointerRepresentation {
            append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
        } else {
            literal.withUTF8Buffer { append($0) }
        }
    }

    @inline(__always)
    func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    private func grow(toHold needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}
