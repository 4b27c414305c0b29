import AuditRecords

/// Turns the records of one event into an `AuditEvent`: argv joined, sockaddr decoded,
/// syscall, arch and errno named, ids paired with the names an ENRICHED log gives.
public struct EventInterpreter: Sendable {
    /// The most bytes of argv an event carries; the rest is counted, not emitted.
    public var argvByteLimit: Int
    private let syscalls: SyscallTable

    public init(argvByteLimit: Int = 64 * 1024, syscalls: SyscallTable = .shared) {
        self.argvByteLimit = argvByteLimit
        self.syscalls = syscalls
    }

    public func interpret(_ group: RecordGroup) -> AuditEvent {
        var event = AuditEvent(key: group.key, category: .other, records: group.records, closeReason: group.closeReason)
        var process: ProcessInfo?
        var execRecords: [AuditRecord] = []

        for record in group.records {
            switch record.type.number {
            case RecordType.syscall.number:
                readProcess(record, into: &process)
                event.syscall = readSyscall(record)
                appendKeys(record, to: &event)
            case RecordType.execve.number:
                execRecords.append(record)
            case RecordType.cwd.number:
                if process == nil { process = ProcessInfo() }
                process!.cwd = record.string("cwd")
            case RecordType.path.number:
                event.paths.append(readPath(record))
            case RecordType.proctitle.number:
                if process == nil { process = ProcessInfo() }
                process!.title = ProcessTitle.argv(record)
            case RecordType.tty.number, RecordType.userTTY.number:
                if let data = record.string("data") { event.ttyInput = (event.ttyInput ?? []) + TTYInput.readable(data) }
                if record.type.role == .standalone || process?.pid == nil { readProcess(record, into: &process) }
            case RecordType.sockaddr.number:
                if let bytes = record.string("saddr") { event.socketAddress = SocketAddress(bytes) }
            default:
                // The SYSCALL record speaks for the process; others (LOGIN, CONFIG_CHANGE)
                // only when there is none, as in user-space messages.
                if record.type.role == .standalone || (process?.pid == nil && record.raw("pid") != nil) {
                    readProcess(record, into: &process)
                }
                if record.type.role == .standalone { event.message = readMessage(record) }
                if event.keys.isEmpty { appendKeys(record, to: &event) }
            }
        }
        if !execRecords.isEmpty {
            let exec = ExecArguments(records: execRecords, byteLimit: argvByteLimit)
            event.malformedFields += exec.malformedFields
            event.exec = exec
        }
        event.process = process
        event.category = EventCategory.classify(records: group.records, syscallName: event.syscall?.name)
        return event
    }

    // MARK: - Records

    /// Reads the process fields of `record` into `process`, creating it when absent;
    /// in place, so the fields already read are not copied.
    private func readProcess(_ record: AuditRecord, into process: inout ProcessInfo?) {
        if process == nil { process = ProcessInfo() }
        readProcess(record, into: &process!)
    }

    private func readProcess(_ record: AuditRecord, into info: inout ProcessInfo) {
        if let pid = record.unsigned("pid") { info.pid = UInt32(truncatingIfNeeded: pid) }
        if let ppid = record.unsigned("ppid") { info.ppid = UInt32(truncatingIfNeeded: ppid) }
        if let exe = record.string("exe") { info.exe = exe }
        if let comm = record.string("comm") { info.comm = comm }
        if let tty = record.word("tty"), !tty.equals("(none)") { info.tty = tty }
        if let ses = record.unsigned("ses"), ses != UInt64(Identity.unset) { info.session = UInt32(truncatingIfNeeded: ses) }
        for role in IdentityRole.allCases {
            if let identity = identity(record, role) { info[role] = identity }
        }
    }

    /// Reads an id field and the name auditd gave it in an ENRICHED log (`UID="root"`).
    private func identity(_ record: AuditRecord, _ role: IdentityRole) -> Identity? {
        let (field, interpretation): (Bytes?, Bytes?)
        switch role {
        case .auid: (field, interpretation) = (record.raw("auid"), record.interpretation("AUID"))
        case .uid: (field, interpretation) = (record.raw("uid"), record.interpretation("UID"))
        case .gid: (field, interpretation) = (record.raw("gid"), record.interpretation("GID"))
        case .euid: (field, interpretation) = (record.raw("euid"), record.interpretation("EUID"))
        case .suid: (field, interpretation) = (record.raw("suid"), record.interpretation("SUID"))
        case .fsuid: (field, interpretation) = (record.raw("fsuid"), record.interpretation("FSUID"))
        case .egid: (field, interpretation) = (record.raw("egid"), record.interpretation("EGID"))
        case .sgid: (field, interpretation) = (record.raw("sgid"), record.interpretation("SGID"))
        case .fsgid: (field, interpretation) = (record.raw("fsgid"), record.interpretation("FSGID"))
        }
        guard let field, let id = ByteNumbers.decimal(field), let id32 = UInt32(exactly: id) else { return nil }
        return Identity(id: id32, name: interpretation.flatMap(UntrustedString.decode))
    }

    private func readSyscall(_ record: AuditRecord) -> SyscallInfo? {
        guard let number = record.unsigned("syscall") else { return nil }
        let arch = record.hexadecimal("arch") ?? 0
        let exit = record.signed("exit")
        let success = record.word("success").map { $0.equals("yes") }
        var errnoName: String?
        if success == false, let exit, exit < 0 { errnoName = syscalls.errnoName(-exit) }
        var arguments: [Bytes] = []
        arguments.reserveCapacity(4)
        for key: StaticString in ["a0", "a1", "a2", "a3"] {
            if let value = record.raw(key) { arguments.append(value) }
        }
        return SyscallInfo(
            number: number, name: syscalls.syscallName(number, arch: arch), arch: arch,
            archName: syscalls.architectureName(arch: arch), success: success, exit: exit, errnoName: errnoName,
            arguments: arguments, items: record.unsigned("items").flatMap { UInt32(exactly: $0) })
    }

    private func readPath(_ record: AuditRecord) -> PathInfo {
        PathInfo(
            item: record.unsigned("item").flatMap { UInt32(exactly: $0) },
            name: record.string("name"),
            nametype: record.word("nametype"),
            inode: record.unsigned("inode"),
            device: record.word("dev"),
            mode: record.word("mode"),
            owner: record.unsigned("ouid").flatMap { UInt32(exactly: $0) }.map {
                Identity(id: $0, name: record.interpretation("OUID").flatMap(UntrustedString.decode))
            },
            group: record.unsigned("ogid").flatMap { UInt32(exactly: $0) }.map {
                Identity(id: $0, name: record.interpretation("OGID").flatMap(UntrustedString.decode))
            })
    }

    private func readMessage(_ record: AuditRecord) -> UserMessage {
        UserMessage(
            operation: record.word("op"),
            account: record.string("acct"),
            accountID: record.unsigned("id").flatMap { UInt32(exactly: $0) },
            exe: record.string("exe"),
            hostname: record.string("hostname"),
            address: record.string("addr"),
            terminal: record.string("terminal"),
            result: record.word("res"),
            grantors: record.word("grantors"))
    }

    /// `key="a"` once, or several keys hex-encoded with 0x01 between them.
    private func appendKeys(_ record: AuditRecord, to event: inout AuditEvent) {
        guard let raw = record.raw("key"), let keys = UntrustedString.decode(raw) else { return }
        event.keys.append(contentsOf: UntrustedString.split(keys, separator: 0x01))
    }
}
