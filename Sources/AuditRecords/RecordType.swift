import CAudit
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// An audit message type (`SYSCALL`, `EXECVE`, `USER_LOGIN`, …), by its kernel number.
///
/// Names come from libaudit's table, so nodeaudit knows exactly the types the host's
/// audit userspace knows; numbers it does not know print as `UNKNOWN[n]`, like auditd.
public struct RecordType: Hashable, Sendable, CustomStringConvertible {
    public let number: UInt32

    public init(number: UInt32) { self.number = number }

    /// The type's name, or nil when libaudit does not know the number.
    public var name: String? { RecordTypeTable.shared.name(of: number) }

    /// The name, or `UNKNOWN[n]` as auditd writes an unknown type.
    public var description: String { name ?? "UNKNOWN[\(number)]" }

    /// Looks a type up by the name auditd writes in log files.
    public init?(name: Bytes) {
        guard let number = RecordTypeTable.shared.number(of: name) else { return nil }
        self.number = number
    }

    /// Looks a type up by name, from bytes read in place.
    public init?(name: UnsafeBufferPointer<UInt8>) {
        guard let number = RecordTypeTable.shared.number(of: name) else { return nil }
        self.number = number
    }

    public static let syscall = RecordType(number: 1300)
    public static let path = RecordType(number: 1302)
    public static let ipc = RecordType(number: 1303)
    public static let socketCall = RecordType(number: 1304)
    public static let configChange = RecordType(number: 1305)
    public static let sockaddr = RecordType(number: 1306)
    public static let cwd = RecordType(number: 1307)
    public static let execve = RecordType(number: 1309)
    public static let endOfEvent = RecordType(number: 1320)
    public static let proctitle = RecordType(number: 1327)
    /// File capabilities granted at exec (one with each EXECVE of a file that has any, or of any as root).
    public static let bprmFcaps = RecordType(number: 1321)
    public static let login = RecordType(number: 1006)
    public static let tty = RecordType(number: 1319)
    public static let userTTY = RecordType(number: 1124)
    public static let userStart = RecordType(number: 1105)
    public static let userEnd = RecordType(number: 1106)
    public static let userLogin = RecordType(number: 1112)
    public static let kernelModule = RecordType(number: 1330)
    public static let avc = RecordType(number: 1400)
    public static let userAVC = RecordType(number: 1107)
    /// AUDIT_REPLACE: the kernel's binary ping to a registered daemon, not a record.
    public static let replace = RecordType(number: 1329)
    /// AUDIT_KERNEL: the kernel's own start message.
    public static let kernel = RecordType(number: 2000)
    /// The audit daemon's start, end and abort (their serials are the daemon's).
    public static let daemonStart = RecordType(number: 1200)
    public static let daemonEnd = RecordType(number: 1201)
    public static let daemonAbort = RecordType(number: 1202)

    /// The ranges of linux/audit.h: user-space messages (1100–1199, and the second user
    /// range 2100–2999), the audit daemon's own records (1200–1299), and replies to
    /// control requests (1000–1099, AUDIT_LOGIN aside).
    public static let userMessages: ClosedRange<UInt32> = 1100...1199
    public static let secondUserMessages: ClosedRange<UInt32> = 2100...2999
    public static let daemonMessages: ClosedRange<UInt32> = 1200...1299
    public static let controlMessages: ClosedRange<UInt32> = 1000...1099
    /// Every message type libaudit names.
    public static let allMessages: ClosedRange<UInt32> = 1000...2999

    /// A message a user-space program sent (logins, PAM, USER_TTY): the kernel stamps
    /// only `pid`, `uid`, `auid`, `ses` and `subj` before the sender's `msg='…'`; the rest
    /// is what the sender claims.
    public var isUserMessage: Bool { Self.userMessages.contains(number) || Self.secondUserMessages.contains(number) }

    /// The audit daemon's own records (DAEMON_START…), which carry its serials, not the kernel's.
    public var isDaemonMessage: Bool { Self.daemonMessages.contains(number) }

    /// Whether a netlink message of this type is an audit record rather than a control
    /// reply or the kernel's ping.
    public var isRecord: Bool {
        number == Self.login.number || (number > Self.controlMessages.upperBound && number != Self.replace.number)
    }

    /// How a record of this type takes part in an event; see `EventRole`.
    public var role: EventRole {
        switch number {
        case RecordType.endOfEvent.number: return .endOfEvent
        case RecordType.proctitle.number: return .lastOfSyscall
        // Userspace messages (PAM, logins, account changes, USER_TTY, …) and the audit
        // daemon's own records are sent one per event; so is the kernel's AUDIT_KERNEL.
        case Self.userMessages, Self.daemonMessages, Self.kernel.number, Self.secondUserMessages: return .standalone
        default: return .part
        }
    }
}

/// Where a record sits in its event, which decides when an event can be closed.
public enum EventRole: Sendable {
    /// The event is complete with this one record.
    case standalone
    /// Part of a multi-record event; more may follow.
    case part
    /// The last record the kernel writes for a syscall event before EOE (PROCTITLE).
    case lastOfSyscall
    /// The kernel's end-of-event marker; carries no data.
    case endOfEvent
}

/// libaudit's message-type names, indexed both ways without allocating on lookup.
final class RecordTypeTable: @unchecked Sendable {  // filled in init, read-only after
    static let shared = RecordTypeTable()

    private static let range = RecordType.allMessages
    private let names: [String?]

    /// The names' bytes, back to back, and where each is (start, length; length 0: none),
    /// by number: encoders write a name per record, from here, without a String.
    private let nameBytes: UnsafeMutableBufferPointer<UInt8>
    private let nameSpans: UnsafeMutableBufferPointer<(start: Int32, length: Int32)>

    private init() {
        var names = [String?](repeating: nil, count: Self.range.count)
        var bytes: [UInt8] = []
        let spans = UnsafeMutableBufferPointer<(start: Int32, length: Int32)>.allocate(capacity: Self.range.count)
        spans.initialize(repeating: (0, 0))
        for number in Self.range {
            guard let cName = audit_msg_type_to_name(Int32(number)) else { continue }
            let name = String(cString: cName)
            let index = Int(number - Self.range.lowerBound)
            names[index] = name
            spans[index] = (Int32(bytes.count), Int32(name.utf8.count))
            bytes.append(contentsOf: name.utf8)
            typeNumbers.insert(Array(name.utf8), number)
        }
        self.names = names
        // Never freed: the table lives as long as the process.
        nameBytes = .allocate(capacity: max(bytes.count, 1))
        _ = nameBytes.initialize(from: bytes)
        nameSpans = spans
    }

    func name(of number: UInt32) -> String? {
        guard Self.range.contains(number) else { return nil }
        return names[Int(number - Self.range.lowerBound)]
    }

    /// The name's bytes, or nil when libaudit does not know the number.
    func nameBytes(of number: UInt32) -> UnsafeBufferPointer<UInt8>? {
        guard Self.range.contains(number) else { return nil }
        let span = nameSpans[Int(number - Self.range.lowerBound)]
        guard span.length > 0 else { return nil }
        return UnsafeBufferPointer(rebasing: nameBytes[Int(span.start)..<Int(span.start + span.length)])
    }

    func number(of name: Bytes) -> UInt32? {
        name.withUnsafeBufferPointer { number(of: $0) }
    }

    func number(of name: UnsafeBufferPointer<UInt8>) -> UInt32? {
        if let number = typeNumbers.number(of: name) { return number }
        // auditd writes types it has no name for as UNKNOWN[n].
        if name.count > 9, UnsafeBufferPointer(rebasing: name[..<8]).equals("UNKNOWN["), name[name.count - 1] == UInt8(ascii: "]") {
            return ByteNumbers.decimal(UnsafeBufferPointer(rebasing: name[8..<(name.count - 1)])).flatMap { UInt32(exactly: $0) }
        }
        return nil
    }
}

/// Record type numbers by name, for every record of a log file: names of up to 24 bytes
/// packed into three words and hashed into a fixed table. Read through a pointer, as an
/// array of arrays cost a retain per candidate compared (perf: 3 % of parsing).
private let typeNumbers = TypeNameTable()

private struct TypeNameTable: @unchecked Sendable {
    private struct Entry {
        var words: (UInt64, UInt64, UInt64)
        var length: Int
        var number: UInt32
    }

    private static let slots = 4096
    /// Filled once by `RecordTypeTable.init` (under the lazy global's once), read only after.
    private let table: UnsafeMutablePointer<Entry>

    init() {
        table = .allocate(capacity: Self.slots)
        table.initialize(repeating: Entry(words: (0, 0, 0), length: 0, number: 0), count: Self.slots)
    }

    /// The packed words of a name, or nil when it is longer than 24 bytes.
    private static func pack(_ name: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64, UInt64)? {
        guard name.count <= 24 else { return nil }
        var words: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(name)) }
        return words
    }

    private static func slot(_ words: (UInt64, UInt64, UInt64), _ length: Int) -> Int {
        var hash = words.0 &* 0x9E37_79B9_7F4A_7C15
        hash = (hash ^ words.1 ^ (hash >> 29)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ words.2 ^ UInt64(length) ^ (hash >> 32)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: hash >> 52) & (slots - 1)
    }

    func insert(_ name: [UInt8], _ number: UInt32) {
        guard !name.isEmpty, let words = name.withUnsafeBufferPointer(Self.pack) else { return }
        var index = Self.slot(words, name.count)
        while table[index].length != 0 { index = (index + 1) & (Self.slots - 1) }
        table[index] = Entry(words: words, length: name.count, number: number)
    }

    func number(of name: UnsafeBufferPointer<UInt8>) -> UInt32? {
        guard !name.isEmpty, let words = Self.pack(name) else { return nil }
        var index = Self.slot(words, name.count)
        while table[index].length != 0 {
            let entry = table[index]
            if entry.length == name.count, entry.words == words { return entry.number }
            index = (index + 1) & (Self.slots - 1)
        }
        return nil
    }
}
