import AuditRecords

/// One kernel event, correlated and interpreted: what nodeaudit emits.
///
/// Values stay as bytes from the records (decoded from hex where the kernel encoded
/// them) so that no attacker-controlled text is altered before the encoder escapes it.
/// They are kept in the event's `text`, and the sections below say where (`TextRange`):
/// `event.bytes(event.process?.exe)` reads one.
public struct AuditEvent: Sendable {
    public var key: EventKey
    /// The decoded values of the event, which the `TextRange`s of its sections point into.
    public var text: EventText
    public var category: EventCategory
    /// The record types of the event, in arrival order.
    public var records: [AuditRecord]
    public var closeReason: CloseReason
    /// The rule keys (`-k`) that matched.
    public var keys: [TextRange]
    public var process: ProcessInfo?
    public var syscall: SyscallInfo?
    /// Set when the event has EXECVE records.
    public var exec: ExecArguments?
    public var paths: [PathInfo]
    public var socketAddress: SocketAddress?
    /// The decoded fields of a user-space message (PAM, logins, account changes).
    public var message: UserMessage?
    /// Fields or values that were in neither of the kernel's encodings.
    public var malformedFields: Int
    /// The node the event happened on: the log's `node=`, or (live) the node's name.
    public var nodeName: Bytes?
    /// Where the process runs: container, pod, or the host (enrichment fills it).
    public var workload: Workload?
    /// Keystrokes of TTY / USER_TTY records, made readable (`TTYInput`).
    public var ttyInput: TextRange?
    /// The login session the event belongs to (enrichment, from the session's login).
    public var loginSession: LoginSession?
    /// The exec session into a container the process belongs to (enrichment).
    public var execSession: ExecSession?
    /// The exec session's Kubernetes key, and who asked the API server for it once the
    /// API audit stream is joined (enrichment).
    public var kubernetesExec: KubernetesExec?
    /// A container runtime started the process, and it was gone before nodeaudit could
    /// tell which container it runs in: not the host's, but not attributed (enrichment).
    public var isUnattributed: Bool
    /// The process is the container runtime's own: `runc` and its `init` stages, which
    /// enter the container's cgroup and namespaces before one of them execs the
    /// container's program. Attributed to the container or not, it is none of the
    /// container's processes: their ancestry ends below it (enrichment).
    public var isRuntimeProcess: Bool
    /// An SELinux access decision (AVC, USER_AVC): `denied` or `granted`, and the
    /// permissions in its braces (what libauparse calls seresult and seperms).
    public var accessDecision: AccessDecision?
    /// Labels of the process, configured or inherited from its ancestors (enrichment).
    public var labels: [String]
    /// The process's parent and ancestors as the stream showed them (enrichment).
    public var lineage: Lineage?
    /// The detection rules the event matched (after enrichment).
    public var detections: [Detection]
    /// The spent event's process title, emptied: the room of the next title
    /// (`takeTitleRoom`), which then needs no array of its own.
    private var titleRoom: [TextRange] = []

    /// A new event; `reset` turns a spent one into the next, keeping its buffers.
    public init(key: EventKey, category: EventCategory, records: [AuditRecord], closeReason: CloseReason) {
        self.key = key
        self.text = EventText(capacity: 512)
        self.category = category
        self.records = records
        self.closeReason = closeReason
        self.keys = []
        self.process = nil
        self.syscall = nil
        self.exec = nil
        self.paths = []
        self.socketAddress = nil
        self.message = nil
        self.malformedFields = 0
        self.nodeName = key.node
        self.workload = nil
        self.ttyInput = nil
        self.loginSession = nil
        self.execSession = nil
        self.kubernetesExec = nil
        self.isUnattributed = false
        self.isRuntimeProcess = false
        self.accessDecision = nil
        self.labels = []
        self.lineage = nil
        self.detections = []
    }

    /// Makes this the empty event of another group, as `init` would, keeping the capacity
    /// of its buffers. Field by field: assigning a new event whole copies it.
    public mutating func reset(key: EventKey, records: [AuditRecord], closeReason: CloseReason) {
        self.key = key
        text.removeAll()
        category = .other
        self.records = records
        self.closeReason = closeReason
        keys.removeAll(keepingCapacity: true)
        if process?.title != nil {
            // Moved out in place: a copy of the process would share the array.
            swap(&titleRoom, &process!.title!)
            titleRoom.removeAll(keepingCapacity: true)
        }
        process = nil
        syscall = nil
        exec = nil
        paths.removeAll(keepingCapacity: true)
        socketAddress = nil
        message = nil
        malformedFields = 0
        nodeName = key.node
        workload = nil
        ttyInput = nil
        loginSession = nil
        execSession = nil
        kubernetesExec = nil
        isUnattributed = false
        isRuntimeProcess = false
        accessDecision = nil
        labels.removeAll(keepingCapacity: true)
        lineage = nil
        detections.removeAll()
    }

    /// An empty array with the room of the spent event's title, handed out once.
    public mutating func takeTitleRoom() -> [TextRange] {
        var room: [TextRange] = []
        swap(&room, &titleRoom)
        return room
    }

    /// `[NODE/]SECONDS.MILLIS:SERIAL`: the same for the same kernel event wherever it is
    /// read from, so consumers can de-duplicate after a redelivery.
    public var id: String {
        (key.node.map { $0.utf8String + "/" } ?? "") + key.stamp.description
    }

    /// Whether some of the event's records were written after it was emitted once.
    public var isLate: Bool { closeReason == .late }

    /// The bytes of one of the event's values (nil stays nil).
    public func bytes(_ range: TextRange?) -> Bytes? { range.map { text[$0] } }

    /// One of the event's values as a string, invalid UTF-8 repaired: for messages and
    /// tests, not the hot path.
    public func string(_ range: TextRange?) -> String? { bytes(range)?.utf8String }

    /// Several of the event's values as strings (argv, proctitle, keys).
    public func strings(_ ranges: [TextRange]?) -> [String]? { ranges?.map { text[$0].utf8String } }

    /// Names every user and group id of the process and the paths that has no name yet,
    /// with `name(id, isGroup)`, copied into the event's text: each distinct id once (uid,
    /// euid, suid and fsuid are mostly one user; past four distinct ids, a repeat is looked
    /// up and copied again). In place, as enrichment runs for every event.
    public mutating func nameIdentities(_ name: (UInt32, Bool) -> Bytes?) {
        var written = NamesWritten()
        if process != nil {
            // In place: `process!.identities` is reached without copying the process.
            Self.nameCredentials(&process!.identities, written: &written, in: &text, from: name)
        }
        for index in paths.indices {
            if let owner = paths[index].owner, owner.name == nil {
                paths[index].owner = Identity(id: owner.id, name: written.name(owner.id, isGroup: false, in: &text, from: name))
            }
            if let group = paths[index].group, group.name == nil {
                paths[index].group = Identity(id: group.id, name: written.name(group.id, isGroup: true, in: &text, from: name))
            }
        }
    }
}

extension AuditEvent {
    /// Names the credentials that have no name yet (`nameIdentities`).
    private static func nameCredentials(
        _ identities: inout ProcessInfo.Identities, written: inout NamesWritten, in text: inout EventText,
        from name: (UInt32, Bool) -> Bytes?
    ) {
        for role in IdentityRole.allCases {
            guard let identity = identities[role.index], identity.name == nil else { continue }
            identities[role.index]!.name = written.name(identity.id, isGroup: role.isGroup, in: &text, from: name)
        }
    }
}

/// The names `nameIdentities` wrote into one event's text, by id.
private struct NamesWritten {
    private var entries = InlineArray<4, (id: UInt32, isGroup: Bool, name: TextRange?)>(repeating: (0, false, nil))
    private var count = 0

    mutating func name(
        _ id: UInt32, isGroup: Bool, in text: inout EventText, from lookup: (UInt32, Bool) -> Bytes?
    ) -> TextRange? {
        for index in 0..<count where entries[index].id == id && entries[index].isGroup == isGroup {
            return entries[index].name
        }
        let name = lookup(id, isGroup).map { text.append($0) }
        if count < entries.count {
            entries[count] = (id, isGroup, name)
            count += 1
        }
        return name
    }
}

/// A numeric user or group id with its name, where known (from an ENRICHED log or the host).
public struct Identity: Sendable, Equatable {
    public var id: UInt32
    /// The name, in the event's text.
    public var name: TextRange?

    public init(id: UInt32, name: TextRange? = nil) {
        self.id = id
        self.name = name
    }

    /// The kernel's "unset" id (4294967295), used for auid and ses before login.
    public static let unset: UInt32 = .max
    public var isUnset: Bool { id == Self.unset }
}

/// Which credential of a process an `Identity` is.
public enum IdentityRole: Int, Sendable, CaseIterable {
    case auid, uid, gid, euid, suid, fsuid, egid, sgid, fsgid

    /// Each role in one row: its field in records (and its key in the JSON), the name
    /// auditd gives its interpretation in ENRICHED logs, and whether the id names a
    /// group rather than a user. (A switch, not an array: inlined, it folds to constants
    /// on the encoder's path.)
    @inline(__always)
    private var row: (field: StaticString, interpretation: StaticString, isGroup: Bool, recordField: ProcessField) {
        switch self {
        case .auid: ("auid", "AUID", false, .auid)
        case .uid: ("uid", "UID", false, .uid)
        case .gid: ("gid", "GID", true, .gid)
        case .euid: ("euid", "EUID", false, .euid)
        case .suid: ("suid", "SUID", false, .suid)
        case .fsuid: ("fsuid", "FSUID", false, .fsuid)
        case .egid: ("egid", "EGID", true, .egid)
        case .sgid: ("sgid", "SGID", true, .sgid)
        case .fsgid: ("fsgid", "FSGID", true, .fsgid)
        }
    }

    /// The field that carries the id in a SYSCALL record, for `FieldIndex`.
    @inline(__always) var recordField: ProcessField { row.recordField }

    @inline(__always) public var field: StaticString { row.field }
    @inline(__always) public var interpretationName: StaticString { row.interpretation }
    @inline(__always) public var isGroup: Bool { row.isGroup }

    /// The position of the role in `ProcessInfo.identities`.
    public var index: Int { rawValue }
}

/// The process that caused the event. Its byte values are in the event's text.
public struct ProcessInfo: Sendable {
    /// The credentials, at their `IdentityRole.index`.
    public typealias Identities = InlineArray<9, Identity?>

    public var pid: UInt32?
    public var ppid: UInt32?
    public var exe: TextRange?
    public var comm: TextRange?
    /// The command line from PROCTITLE (at most 128 bytes, as the kernel cuts it).
    public var title: [TextRange]?
    public var cwd: TextRange?
    public var tty: TextRange?
    /// The audit session id; nil when unset.
    public var session: UInt32?
    /// Credentials by role, in `IdentityRole` order; nil where the record has none.
    /// Inline: no allocation per event.
    public var identities: Identities

    public init() {
        identities = InlineArray(repeating: nil)
    }

    public subscript(role: IdentityRole) -> Identity? {
        get { identities[role.index] }
        set { identities[role.index] = newValue }
    }
}

/// The syscall of a syscall event, with its numbers named.
public struct SyscallInfo: Sendable {
    public var number: UInt64
    public var name: String?
    public var arch: UInt64
    public var archName: String?
    public var success: Bool?
    public var exit: Int64?
    /// The errno name when the syscall failed (`ENOENT`).
    public var errnoName: String?
    /// a0…a3 as the kernel gives them (hex), in the event's text.
    public var arguments: InlineArray<4, TextRange?>
    public var items: UInt32?

    /// The pid a successful clone, clone3, fork or vfork returned: the new process's pid
    /// in the caller's own pid namespace (the node's only when the caller is on the node).
    public var createdProcess: UInt32? {
        guard success == true, let exit, exit > 0, exit <= Int64(UInt32.max), let name else { return nil }
        // Asked for every event: the first byte rules out most syscalls before any string comparison.
        switch name.utf8.first {
        case UInt8(ascii: "c"), UInt8(ascii: "f"), UInt8(ascii: "v"): break
        default: return nil
        }
        return switch name {
        case "clone", "clone3", "fork", "vfork": UInt32(exit)
        default: nil
        }
    }
}

/// One PATH record: a file the syscall touched. Its byte values are in the event's text.
public struct PathInfo: Sendable {
    public var item: UInt32?
    public var name: TextRange?
    public var nametype: TextRange?
    public var inode: UInt64?
    public var device: TextRange?
    public var mode: TextRange?
    public var owner: Identity?
    public var group: Identity?
}

/// The fields of a user-space message (`USER_LOGIN`, `USER_AUTH`, `ADD_USER`, …), from
/// its `msg='…'` part. Its byte values are in the event's text.
public struct UserMessage: Sendable {
    public var operation: TextRange?
    /// The account acted on (`acct`), decoded.
    public var account: TextRange?
    /// A numeric user id the message names (`id`), e.g. in ADD_USER or USER_LOGIN.
    public var accountID: UInt32?
    public var exe: TextRange?
    public var hostname: TextRange?
    public var address: TextRange?
    public var terminal: TextRange?
    /// `success` or `failed`.
    public var result: TextRange?
    public var grantors: TextRange?
}

/// A login as PAM and the login records told it: carried onto every event of the session
/// (same `ses`), so a command says who logged in, from where.
public struct LoginSession: Sendable, Equatable {
    public var id: UInt32
    public var user: Bytes?
    public var address: Bytes?
    public var terminal: Bytes?
    /// The id of the event that opened the session (USER_START / USER_LOGIN).
    public var loginEventID: String

    public init(id: UInt32, user: Bytes?, address: Bytes?, terminal: Bytes?, loginEventID: String) {
        self.id = id
        self.user = user
        self.address = address
        self.terminal = terminal
        self.loginEventID = loginEventID
    }
}

/// A process started in a container by the runtime's exec path (`kubectl exec`,
/// `crictl exec`, `podman exec`, `runc exec`), not descended from the container's first
/// process, and everything it starts.
public struct ExecSession: Sendable, Equatable {
    /// `CONTAINER12-PID-STARTTICKS` of the session's first process: unique on the node.
    public var id: String
    /// The host pid of the session's first process.
    public var rootPID: UInt32
    /// Whether the session has a terminal (`-t`): an interactive shell.
    public var hasTTY: Bool
    /// The argv the session's first process ran, when its exec was seen.
    public var command: ExecCommand?

    public init(id: String, rootPID: UInt32, hasTTY: Bool, command: ExecCommand? = nil) {
        self.id = id
        self.rootPID = rootPID
        self.hasTTY = hasTTY
        self.command = command
    }

    /// The session begun by process `rootPID` of container `containerID`, started at
    /// `startTicks` (clock ticks since boot): its id says all three.
    public init(containerID: String, rootPID: UInt32, startTicks: UInt64, hasTTY: Bool, command: ExecCommand? = nil) {
        self.init(id: "\(containerID.prefix(12))-\(rootPID)-\(startTicks)", rootPID: rootPID, hasTTY: hasTTY, command: command)
    }
}

/// `avc:  denied  { read write } for …`: the verdict and permissions an SELinux AVC record
/// carries before its fields, in the event's text.
public struct AccessDecision: Sendable {
    public var result: TextRange
    public var permissions: [TextRange]

    public init(result: TextRange, permissions: [TextRange]) {
        self.result = result
        self.permissions = permissions
    }
}
