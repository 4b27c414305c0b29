import AuditRecords

/// Turns the records of one event into an `AuditEvent`: argv joined, sockaddr decoded,
/// syscall, arch and errno named, ids paired with the names an ENRICHED log gives.
public struct EventInterpreter: Sendable {
    /// The most bytes of argv an event carries; the rest is counted, not emitted.
    public var argvByteLimit: Int
    private let syscalls: SyscallTable

    public init(argvByteLimit: Int, syscalls: SyscallTable = .shared) {
        self.argvByteLimit = argvByteLimit
        self.syscalls = syscalls
    }

    /// Interprets `group` into a new event. A stream of events goes through
    /// `interpret(_:into:)`, which reuses a spent one.
    public func interpret(_ group: RecordGroup) -> AuditEvent {
        var event = AuditEvent(key: group.key, category: .other, records: group.records, closeReason: group.closeReason)
        fill(&event, from: group)
        return event
    }

    /// Interprets `group` into `event`, replacing what it held and reusing its buffers
    /// (text, paths, keys): an event is some kilobyte, and filling one in place spares
    /// allocating its buffers and copying it in and out.
    public func interpret(_ group: RecordGroup, into event: inout AuditEvent) {
        event.reset(key: group.key, records: group.records, closeReason: group.closeReason)
        fill(&event, from: group)
    }

    private func fill(_ event: inout AuditEvent, from group: RecordGroup) {
        var hasExec = false
        var ttyInput: [UInt8]?

        // Sections are filled in place (`event.process!`): a local copy assigned at the end
        // would be copied whole.
        for record in group.records {
            switch record.type.number {
            case RecordType.syscall.number:
                readSyscallRecord(record, into: &event)
            case RecordType.execve.number:
                hasExec = true
            case RecordType.cwd.number:
                if event.process == nil { event.process = ProcessInfo() }
                event.process!.cwd = record.string("cwd", into: &event.text)
            case RecordType.path.number:
                event.paths.append(readPath(record, text: &event.text))
            case RecordType.proctitle.number:
                var malformed = false
                let title = ProcessTitle.argv(record, into: &event.text, room: event.takeTitleRoom(), malformed: &malformed)
                if malformed { event.malformedFields += 1 }
                if title != nil {
                    if event.process == nil { event.process = ProcessInfo() }
                    event.process!.title = title
                }
            case RecordType.tty.number, RecordType.userTTY.number:
                if let data = record.string("data") { ttyInput = (ttyInput ?? []) + TTYInput.readable(data) }
                if record.type.role == .standalone || event.process?.pid == nil { readProcess(record, into: &event) }
            case RecordType.sockaddr.number:
                // Bad hex would decode into garbage (a family that does not exist): flagged instead.
                if record.isMalformed("saddr") {
                    event.malformedFields += 1
                } else if let bytes = record.string("saddr") {
                    event.socketAddress = SocketAddress(bytes)
                }
            case RecordType.avc.number, RecordType.userAVC.number:
                if event.accessDecision == nil { event.accessDecision = Self.accessDecision(record, text: &event.text) }
                fallthrough
            default:
                // The SYSCALL record speaks for the process; others (LOGIN, CONFIG_CHANGE)
                // only when there is none, as in user-space messages.
                if record.type.role == .standalone || (event.process?.pid == nil && record.has("pid")) {
                    readProcess(record, into: &event)
                }
                if record.type.role == .standalone { event.message = readMessage(record, text: &event.text) }
                if event.keys.isEmpty { appendKeys(record.string("key", into: &event.text), to: &event) }
            }
        }
        if hasExec {
            // EXECVE alone (a filtered log, one cut at a file boundary) still has a process.
            if event.process == nil { event.process = ProcessInfo() }
            let exec = ExecArguments(records: group.records, byteLimit: argvByteLimit, into: &event.text)
            event.malformedFields += exec.malformedFields
            event.exec = exec
        }
        if let ttyInput { event.ttyInput = event.text.append(ttyInput[...]) }
        event.category = EventCategory.classify(records: group.records, syscallName: event.syscall?.name)
    }

    // MARK: - Records

    /// The verdict and permissions of `avc:  VERDICT  { PERM … } for …` in the record's
    /// text (a USER_AVC has it inside its `msg='…'`); nil when it has none (AppArmor).
    static func accessDecision(_ record: AuditRecord, text: inout EventText) -> AccessDecision? {
        record.withText { body -> (verdict: Range<Int>, permissions: [Range<Int>])? in
            guard let marker = body.firstRange(of: Self.avcMarker) else { return nil }
            var words: [Range<Int>] = []
            var i = marker.upperBound
            while i < body.count, words.count < 64 {
                while i < body.count, body[i] == UInt8(ascii: " ") { i += 1 }
                let start = i
                while i < body.count, body[i] != UInt8(ascii: " ") { i += 1 }
                guard start < i else { break }
                let word = UnsafeBufferPointer(rebasing: body[start..<i])
                if word.equals("for") || word.equals("}") { if word.equals("}") { words.append(start..<i) }; break }
                words.append(start..<i)
            }
            // VERDICT { PERM … }
            guard words.count >= 3, UnsafeBufferPointer(rebasing: body[words[1]]).equals("{"),
                  let close = words.lastIndex(where: { UnsafeBufferPointer(rebasing: body[$0]).equals("}") }), close > 2 else { return nil }
            return (words[0], Array(words[2..<close]))
        }.map { found in
            record.withText { body in
                AccessDecision(result: text.append(UnsafeBufferPointer(rebasing: body[found.verdict])),
                               permissions: found.permissions.map { text.append(UnsafeBufferPointer(rebasing: body[$0])) })
            }
        }
    }

    private static let avcMarker = Array("avc:".utf8)

    /// Reads the process fields of `record` into the event's process, creating it when absent.
    private func readProcess(_ record: AuditRecord, into event: inout AuditEvent) {
        if event.process == nil { event.process = ProcessInfo() }
        readProcess(record, FieldIndex(record), into: &event.process!, text: &event.text)
        if record.type.isUserMessage { Self.keepKernelStamped(&event.process!) }
    }

    /// A user-space message's process is what the kernel stamped (pid, uid, auid, ses);
    /// its `exe`, `comm`, `tty` and other ids are the sender's claims, which stay in the
    /// message (a forged login says `exe="/usr/sbin/sshd"` from anywhere).
    private static func keepKernelStamped(_ process: inout ProcessInfo) {
        process.exe = nil
        process.comm = nil
        process.tty = nil
        process.ppid = nil
        for role in IdentityRole.allCases where role != .uid && role != .auid { process[role] = nil }
    }

    private func readProcess(
        _ record: AuditRecord, _ fields: FieldIndex<ProcessField>, into info: inout ProcessInfo, text: inout EventText
    ) {
        if let pid = fields.unsigned(.pid, of: record) { info.pid = UInt32(truncatingIfNeeded: pid) }
        if let ppid = fields.unsigned(.ppid, of: record) { info.ppid = UInt32(truncatingIfNeeded: ppid) }
        if let exe = fields[.exe].flatMap({ record.string(at: $0, into: &text) }) { info.exe = exe }
        if let comm = fields[.comm].flatMap({ record.string(at: $0, into: &text) }) { info.comm = comm }
        if let tty = fields[.tty].map({ record.word(at: $0, into: &text) }), !text[tty].equals("(none)") { info.tty = tty }
        if let ses = fields.unsigned(.ses, of: record), ses != UInt64(Identity.unset) {
            info.session = UInt32(truncatingIfNeeded: ses)
        }
        for role in IdentityRole.allCases {
            guard let id = fields.unsigned(role.recordField, of: record), let id32 = UInt32(exactly: id) else { continue }
            info[role] = Identity(id: id32, name: !record.hasInterpretations ? nil : name(of: role, in: record, text: &text))
        }
    }

    /// The name auditd gave an id in an ENRICHED log (`UID="root"`).
    private func name(of role: IdentityRole, in record: AuditRecord, text: inout EventText) -> TextRange? {
        record.interpretation(role.interpretationName, into: &text)
    }

    /// Reads a SYSCALL record: the syscall, its process and its rule keys, in one pass
    /// over the fields.
    private func readSyscallRecord(_ record: AuditRecord, into event: inout AuditEvent) {
        let fields = FieldIndex<ProcessField>(record)
        if event.process == nil { event.process = ProcessInfo() }
        readProcess(record, fields, into: &event.process!, text: &event.text)
        event.syscall = readSyscall(record, fields, text: &event.text)
        appendKeys(fields[.key].flatMap { record.string(at: $0, into: &event.text) }, to: &event)
    }

    private func readSyscall(_ record: AuditRecord, _ fields: FieldIndex<ProcessField>, text: inout EventText) -> SyscallInfo? {
        guard let number = fields.unsigned(.syscall, of: record) else { return nil }
        let arch = fields[.arch].flatMap { record.withValue(at: $0, ByteNumbers.hexadecimal) } ?? 0
        let exit = fields[.exit].flatMap { record.withValue(at: $0, ByteNumbers.signedDecimal) }
        let success = fields[.success].map { record.withValue(at: $0) { $0.equals("yes") || $0.equals("\"yes\"") } }
        var errnoName: String?
        if success == false, let exit, exit < 0 { errnoName = syscalls.errnoName(-exit) }
        var arguments = InlineArray<4, TextRange?>(repeating: nil)
        var count = 0
        for field in [ProcessField.a0, .a1, .a2, .a3] {
            guard let value = fields[field] else { continue }
            arguments[count] = record.withValue(at: value) { text.append($0) }
            count += 1
        }
        var name = syscalls.syscallName(number, arch: arch)
        if let multiplexer = name, multiplexer == "socketcall" || multiplexer == "ipc" {
            name = Subcall.name(multiplexer, firstArgument: fields[.a0].flatMap { record.withValue(at: $0, ByteNumbers.hexadecimal) })
        }
        return SyscallInfo(
            number: number, name: name, arch: arch,
            archName: syscalls.architectureName(arch: arch), success: success, exit: exit, errnoName: errnoName,
            arguments: arguments, items: fields.unsigned(.items, of: record).flatMap { UInt32(exactly: $0) })
    }

    private func readPath(_ record: AuditRecord, text: inout EventText) -> PathInfo {
        let fields = FieldIndex<PathField>(record)
        func identity(_ field: PathField, named interpretation: StaticString) -> Identity? {
            fields.unsigned(field, of: record).flatMap { UInt32(exactly: $0) }.map {
                Identity(id: $0, name: record.interpretation(interpretation, into: &text))
            }
        }
        return PathInfo(
            item: fields.unsigned(.item, of: record).flatMap { UInt32(exactly: $0) },
            name: fields[.name].flatMap { record.string(at: $0, into: &text) },
            nametype: fields[.nametype].map { record.word(at: $0, into: &text) },
            inode: fields.unsigned(.inode, of: record),
            device: fields[.dev].map { record.word(at: $0, into: &text) },
            mode: fields[.mode].map { record.word(at: $0, into: &text) },
            owner: identity(.ouid, named: "OUID"),
            group: identity(.ogid, named: "OGID"))
    }

    private func readMessage(_ record: AuditRecord, text: inout EventText) -> UserMessage {
        UserMessage(
            operation: record.word("op", into: &text),
            account: record.string("acct", into: &text),
            accountID: record.unsigned("id").flatMap { UInt32(exactly: $0) },
            exe: record.string("exe", into: &text),
            hostname: record.string("hostname", into: &text),
            address: record.string("addr", into: &text),
            terminal: record.string("terminal", into: &text),
            result: record.word("res", into: &text),
            grantors: record.word("grantors", into: &text))
    }

    /// The rule keys of a `key` field: `key="a"` once, or several keys hex-encoded with
    /// 0x01 between them (`keys`: the field decoded into the event's text).
    private func appendKeys(_ keys: TextRange?, to event: inout AuditEvent) {
        guard let keys else { return }
        event.text.split(keys, separator: 0x01, appendingTo: &event.keys)
    }
}
