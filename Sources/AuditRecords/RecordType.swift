import CAudit

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
    public static let login = RecordType(number: 1006)
    public static let tty = RecordType(number: 1319)
    public static let userTTY = RecordType(number: 1124)
    public static let userStart = RecordType(number: 1105)
    public static let userEnd = RecordType(number: 1106)
    public static let userLogin = RecordType(number: 1112)

    /// How a record of this type takes part in an event; see `EventRole`.
    public var role: EventRole {
        switch number {
        case RecordType.endOfEvent.number: return .endOfEvent
        case RecordType.proctitle.number: return .lastOfSyscall
        // Userspace messages (PAM, logins, account changes, USER_TTY, …) and the audit
        // daemon's own records are sent one per event; so is the kernel's AUDIT_KERNEL.
        case 1100...1199, 1200...1299, 2000, 2100...2999: return .standalone
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
final class RecordTypeTable: Sendable {
    static let shared = RecordTypeTable()

    /// Kernel message types live in 1000...2999.
    private static let range: ClosedRange<UInt32> = 1000...2999
    private let names: [String?]
    /// Names bucketed by length, for allocation-free lookup from log bytes.
    private let byLength: [[(name: [UInt8], number: UInt32)]]

    private init() {
        var names = [String?](repeating: nil, count: Self.range.count)
        var byLength = [[(name: [UInt8], number: UInt32)]](repeating: [], count: 64)
        for number in Self.range {
            guard let cName = audit_msg_type_to_name(Int32(number)) else { continue }
            let name = String(cString: cName)
            names[Int(number - Self.range.lowerBound)] = name
            let bytes = Array(name.utf8)
            if bytes.count < byLength.count { byLength[bytes.count].append((bytes, number)) }
        }
        self.names = names
        self.byLength = byLength
    }

    func name(of number: UInt32) -> String? {
        guard Self.range.contains(number) else { return nil }
        return names[Int(number - Self.range.lowerBound)]
    }

    func number(of name: Bytes) -> UInt32? {
        guard name.count < byLength.count else { return nil }
        for candidate in byLength[name.count] where candidate.name.elementsEqual(name) {
            return candidate.number
        }
        // auditd writes types it has no name for as UNKNOWN[n].
        if name.hasPrefix("UNKNOWN["), name.last == UInt8(ascii: "]") {
            return ByteNumbers.decimal(name.dropFirst(8).dropLast()).flatMap { UInt32(exactly: $0) }
        }
        return nil
    }
}
