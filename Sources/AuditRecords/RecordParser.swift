#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Why a line or netlink message could not be read as an audit record.
public enum RecordParseError: Error, Equatable, Sendable, CustomStringConvertible {
    case emptyLine
    case missingType
    case unknownType(String)
    case missingStamp
    case malformedStamp(String)
    case tooLong(Int)

    public var description: String {
        switch self {
        case .emptyLine: return "empty line"
        case .missingType: return "no 'type=' at the start of the record"
        case .unknownType(let t): return "unreadable record type '\(t)'"
        case .missingStamp: return "no 'msg=audit(SECONDS.MILLIS:SERIAL):' stamp"
        case .malformedStamp(let s): return "malformed stamp 'audit(\(s))'"
        case .tooLong(let n): return "record of \(n) bytes is larger than the \(RecordParser.maximumRecordBytes)-byte limit"
        }
    }
}

/// Turns audit.log lines and netlink payloads into `AuditRecord`s.
///
/// Log lines: `[node=NAME ]type=TYPE msg=audit(SEC.MS:SERIAL): FIELDS[0x1d INTERPRETATIONS]`
/// (auditd's RAW and ENRICHED formats), also behind a syslog or kernel-log prefix
/// (`… kernel: audit: type=1300 audit(…): …` from dmesg and journald on nodes without
/// auditd, `… audispd: node=… type=…` from syslog forwarding), with a numeric type and
/// without `msg=`. Netlink: the message type comes from the netlink header and the
/// payload is `audit(SEC.MS:SERIAL): FIELDS`.
public enum RecordParser {
    /// Larger inputs are rejected: the kernel's own limit is 8970 bytes per record
    /// (MAX_AUDIT_MESSAGE_LENGTH); this leaves room for auditd's interpretations.
    public static let maximumRecordBytes = 1 << 20

    private static let groupSeparator: UInt8 = 0x1d

    /// Parses one audit.log line (without its newline).
    public static func parseLogLine(_ line: UnsafeBufferPointer<UInt8>) throws(RecordParseError) -> AuditRecord {
        var stamps = StampReader()
        return try parseLogLine(line, stamps: &stamps)
    }

    /// Parses one audit.log line (without its newline), reading its stamp with `stamps`:
    /// the reader of the lines before it.
    public static func parseLogLine(_ line: UnsafeBufferPointer<UInt8>, stamps: inout StampReader) throws(RecordParseError) -> AuditRecord {
        var end = line.count
        while end > 0, line[end - 1] == UInt8(ascii: "\r") || line[end - 1] == UInt8(ascii: " ") { end -= 1 }
        guard end > 0 else { throw .emptyLine }
        guard end <= maximumRecordBytes else { throw .tooLong(end) }
        let line = UnsafeBufferPointer(rebasing: line[..<end])
        var i = 0
        var node: Range<Int>?
        let hasNode = startsWith(line, at: 0, "node=")
        if !hasNode, line[0] != UInt8(ascii: "t") || !startsWith(line, at: 0, "type="), let record = recordStart(line) {
            // A prefix before the record: syslog's time, host and tag, or the kernel log's.
            i = record.start
            node = record.node
        } else if hasNode {
            let start = 5
            i = start
            while i < end, line[i] != UInt8(ascii: " ") { i += 1 }
            node = start..<i
            while i < end, line[i] == UInt8(ascii: " ") { i += 1 }
        }
        guard startsWith(line, at: i, "type=") else { throw .missingType }
        i += 5
        let typeStart = i
        while i < end, line[i] != UInt8(ascii: " ") { i += 1 }
        let typeName = UnsafeBufferPointer(rebasing: line[typeStart..<i])
        let typeRange = typeStart..<i
        while i < end, line[i] == UInt8(ascii: " ") { i += 1 }
        // The kernel log writes the stamp without `msg=`.
        if startsWith(line, at: i, "msg=") {
            i += 4
        } else if !startsWith(line, at: i, "audit(") {
            throw .missingStamp
        }

        let type: RecordType
        var unresolved: Range<Int>?
        if let known = RecordType(name: typeName) {
            type = known
        } else if let number = ByteNumbers.decimal(typeName), number <= UInt64(RecordType.allMessages.upperBound),
                  case let numbered = RecordType(number: UInt32(number)), numbered.name != nil {
            // The kernel log names types by number (`type=1300`).
            type = numbered
        } else {
            guard !typeName.isEmpty, typeName.allSatisfy(isTypeNameByte) else {
                throw .unknownType(String(decoding: typeName, as: UTF8.self))
            }
            // A type this host's libaudit does not know (written by a newer auditd): keep
            // the record, under the name the log gives it.
            type = RecordType(number: 0)
            unresolved = typeRange
        }
        // The record keeps the whole line: `node` and the type name index into it.
        return try makeRecord(line, stampStart: i, type: type, node: node, unresolvedTypeName: unresolved, stamps: &stamps)
    }

    /// Where the record starts in a line with a prefix: the `type=` after a space (with
    /// the `node=` word right before it, when there is one); nil when there is none.
    private static func recordStart(_ line: UnsafeBufferPointer<UInt8>) -> (start: Int, node: Range<Int>?)? {
        var i = 1
        while i + 5 <= line.count {
            if line[i - 1] == UInt8(ascii: " "), startsWith(line, at: i, "type=") {
                // The word before, if it is `node=NAME`.
                var wordEnd = i - 1
                while wordEnd > 0, line[wordEnd - 1] == UInt8(ascii: " ") { wordEnd -= 1 }
                var wordStart = wordEnd
                while wordStart > 0, line[wordStart - 1] != UInt8(ascii: " ") { wordStart -= 1 }
                let node = startsWith(line, at: wordStart, "node=") && wordEnd > wordStart + 5 ? (wordStart + 5)..<wordEnd : nil
                return (i, node)
            }
            i += 1
        }
        return nil
    }

    /// Parses one audit.log line from an array of bytes.
    public static func parseLogLine(_ line: [UInt8]) throws(RecordParseError) -> AuditRecord {
        let result: Result<AuditRecord, RecordParseError> = line.withUnsafeBufferPointer { buffer in
            do throws(RecordParseError) { return .success(try parseLogLine(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// Parses the payload of a netlink audit message whose header gave `type`.
    public static func parseNetlink(type: UInt16, payload: UnsafeRawBufferPointer) throws(RecordParseError) -> AuditRecord {
        var stamps = StampReader()
        return try parseNetlink(type: type, payload: payload, stamps: &stamps)
    }

    /// Parses the payload of a netlink audit message whose header gave `type`, reading its
    /// stamp with `stamps`: the reader of the messages before it.
    public static func parseNetlink(
        type: UInt16, payload: UnsafeRawBufferPointer, stamps: inout StampReader
    ) throws(RecordParseError) -> AuditRecord {
        var end = payload.count
        // The kernel may count a trailing NUL or newline in the length.
        while end > 0, payload[end - 1] == 0 || payload[end - 1] == UInt8(ascii: "\n") { end -= 1 }
        guard end <= maximumRecordBytes else { throw .tooLong(end) }
        let bytes = UnsafeBufferPointer(start: payload.baseAddress?.assumingMemoryBound(to: UInt8.self), count: end)
        return try makeRecord(bytes, stampStart: 0, type: RecordType(number: UInt32(type)), node: nil, unresolvedTypeName: nil,
                              stamps: &stamps)
    }

    /// The stamp of a netlink message whose header gave EOE: the end of an event carries
    /// nothing else, so it is not made into a record (the kernel sends one after every
    /// syscall event: a third of a flood of small events).
    public static func parseEndOfEvent(payload: UnsafeRawBufferPointer) throws(RecordParseError) -> AuditStamp {
        var stamps = StampReader()
        return try parseEndOfEvent(payload: payload, stamps: &stamps)
    }

    /// The stamp of an EOE message (as above), read with `stamps`: the reader of the
    /// messages before it, which mostly had the same stamp.
    public static func parseEndOfEvent(payload: UnsafeRawBufferPointer, stamps: inout StampReader) throws(RecordParseError) -> AuditStamp {
        let bytes = UnsafeBufferPointer(start: payload.baseAddress?.assumingMemoryBound(to: UInt8.self), count: payload.count)
        return try parseStamp(bytes, from: 0, stamps: &stamps).0
    }

    /// The most fields a record is parsed with before they move to the heap: more than a
    /// SYSCALL record has, and the stack memory for them stays within 1 KiB.
    private static let stackFields = 64

    /// Parses the stamp at `stampStart` and the fields after it, and copies `bytes` into a
    /// new record.
    private static func makeRecord(
        _ bytes: UnsafeBufferPointer<UInt8>, stampStart: Int, type: RecordType, node: Range<Int>?,
        unresolvedTypeName: Range<Int>?, stamps: inout StampReader
    ) throws(RecordParseError) -> AuditRecord {
        let (stamp, bodyStart) = try parseStamp(bytes, from: stampStart, stamps: &stamps)
        let end = bytes.count
        var separator: Int?
        if bodyStart < end, let base = bytes.baseAddress, let found = memchr(base + bodyStart, Int32(groupSeparator), end - bodyStart) {
            separator = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
        }
        let textEnd = separator ?? end
        return withUnsafeTemporaryAllocation(of: RecordField.self, capacity: stackFields) { storage in
            var fields = FieldCollector(storage: storage)
            FieldTokenizer.tokenize(bytes, in: bodyStart..<textEnd, into: &fields)
            let kernelFields = fields.count
            if let separator { FieldTokenizer.tokenize(bytes, in: (separator + 1)..<end, into: &fields) }
            return fields.withFields { all in
                AuditRecord.make(type: type, stamp: stamp, bytes: bytes, text: bodyStart..<textEnd, node: node,
                                 unresolvedTypeName: unresolvedTypeName, fields: all,
                                 interpretationCount: all.count - kernelFields)
            }
        }
    }

    /// Reads `audit(SEC.MS:SERIAL):` and returns the stamp and where the fields start; a
    /// stamp `stamps` remembers is recognised without reading its digits.
    static func parseStamp(
        _ b: UnsafeBufferPointer<UInt8>, from start: Int, stamps: inout StampReader
    ) throws(RecordParseError) -> (AuditStamp, Int) {
        let end = b.count
        var i = start
        guard i + 6 <= end, b[i] == UInt8(ascii: "a"), b[i + 1] == UInt8(ascii: "u"), b[i + 2] == UInt8(ascii: "d"),
              b[i + 3] == UInt8(ascii: "i"), b[i + 4] == UInt8(ascii: "t"), b[i + 5] == UInt8(ascii: "(")
        else { throw .missingStamp }
        i += 6
        let stamp: AuditStamp
        if let (known, after) = stamps.recognise(b, at: i) {
            stamp = known
            i = after
        } else {
            let (read, after) = try readStampText(b, from: i)
            stamps.remember(read, text: UnsafeBufferPointer(rebasing: b[i..<after]))
            stamp = read
            i = after
        }
        if i < end, b[i] == UInt8(ascii: ":") { i += 1 }
        while i < end, b[i] == UInt8(ascii: " ") { i += 1 }
        return (stamp, i)
    }

    /// Reads `SEC.MS:SERIAL)` from `start`: the stamp and the index after its `)`.
    private static func readStampText(_ b: UnsafeBufferPointer<UInt8>, from start: Int) throws(RecordParseError) -> (AuditStamp, Int) {
        let end = b.count
        var i = start
        func malformed() -> RecordParseError {
            let close = b[start..<end].firstIndex(of: UInt8(ascii: ")")) ?? min(end, start + 40)
            return .malformedStamp(String(decoding: UnsafeBufferPointer(rebasing: b[start..<close]), as: UTF8.self))
        }
        var seconds: UInt64 = 0
        var digits = 0
        while i < end, let d = digit(b[i]) { seconds = seconds &* 10 &+ d; i += 1; digits += 1 }
        guard digits > 0, digits <= 19, i < end, b[i] == UInt8(ascii: ".") else { throw malformed() }
        i += 1
        var millis: UInt64 = 0
        digits = 0
        while i < end, let d = digit(b[i]) { millis = millis &* 10 &+ d; i += 1; digits += 1 }
        guard digits == 3, i < end, b[i] == UInt8(ascii: ":") else { throw malformed() }
        i += 1
        var serial: UInt64 = 0
        digits = 0
        while i < end, let d = digit(b[i]) { serial = serial &* 10 &+ d; i += 1; digits += 1 }
        guard digits > 0, digits <= 19, i < end, b[i] == UInt8(ascii: ")") else { throw malformed() }
        return (AuditStamp(seconds: seconds, milliseconds: UInt16(millis), serial: serial), i + 1)
    }

    @inline(__always)
    private static func digit(_ b: UInt8) -> UInt64? {
        let d = b &- UInt8(ascii: "0")
        return d < 10 ? UInt64(d) : nil
    }

    private static func isTypeNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"),
             UInt8(ascii: "["), UInt8(ascii: "]"): return true
        default: return false
        }
    }

    @inline(__always)
    private static func startsWith(_ b: UnsafeBufferPointer<UInt8>, at i: Int, _ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        return literal.withUTF8Buffer { lit in
            for k in 0..<n where b[i + k] != lit[k] { return false }
            return true
        }
    }
}
