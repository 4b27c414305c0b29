import AuditEvents
import AuditRecords

/// nodeaudit's own event schema (docs/events.md): one JSON object per line.
public struct NativeJSONEncoder: EventEncoder {
    /// Adds every original record (type and text) to each event.
    public var includeRecords: Bool

    public init(includeRecords: Bool = false) {
        self.includeRecords = includeRecords
    }

    /// Record types whose content the structured sections already carry.
    private static let structured: Set<UInt32> = [
        RecordType.syscall.number, RecordType.execve.number, RecordType.cwd.number, RecordType.path.number,
        RecordType.proctitle.number, RecordType.sockaddr.number, RecordType.endOfEvent.number,
    ]

    public func encode(_ event: AuditEvent, into w: inout JSONWriter) {
        let stamp = event.key.stamp
        w.beginObject()
        w.key("id")
        w.string(event.id)
        w.key("time")
        Timestamp.rfc3339(seconds: stamp.seconds, milliseconds: stamp.milliseconds).withUnsafeBufferPointer {
            w.beginString()
            w.rawStringContent($0)
            w.endString()
        }
        w.key("serial")
        w.number(stamp.serial)
        if let node = event.nodeName {
            w.key("node")
            w.string(node)
        }
        w.key("category")
        w.string(event.category.rawValue)
        w.key("record_types")
        w.beginArray()
        for record in event.records { w.string(record.typeName) }
        w.endArray()
        if !event.keys.isEmpty {
            w.key("keys")
            w.beginArray()
            for key in event.keys { w.string(key) }
            w.endArray()
        }
        if let process = event.process { writeProcess(process, exec: event.exec, workload: event.workload, into: &w) }
        if let syscall = event.syscall { writeSyscall(syscall, into: &w) }
        if !event.paths.isEmpty {
            w.key("paths")
            w.beginArray()
            for path in event.paths { writePath(path, into: &w) }
            w.endArray()
        }
        if let address = event.socketAddress {
            w.key("socket")
            writeSocket(address, into: &w)
        }
        if let message = event.message {
            // Logins are first-class: their fields under `login`, with the session id.
            if event.category == .login {
                writeMessage(message, name: "login", session: event.process?.session, into: &w)
            } else {
                writeMessage(message, name: "message", session: nil, into: &w)
            }
        }
        if let input = event.ttyInput {
            w.key("tty_input")
            w.string(input)
        }
        if let session = event.loginSession { writeLoginSession(session, into: &w) }
        if let session = event.execSession {
            w.key("exec_session")
            w.beginObject()
            w.key("id")
            w.string(session.id)
            w.key("root_pid")
            w.number(session.rootPID)
            w.key("tty")
            w.bool(session.hasTTY)
            w.endObject()
        }
        writeDetails(event, into: &w)
        if let workload = event.workload { writeWorkload(workload, into: &w) }
        if event.isLate {
            w.key("late")
            w.bool(true)
        }
        if event.malformedFields > 0 {
            w.key("malformed_fields")
            w.number(event.malformedFields)
        }
        if includeRecords {
            w.key("records")
            w.beginArray()
            for record in event.records {
                w.beginObject()
                w.key("type")
                w.string(record.typeName)
                w.key("text")
                w.string(record.text)
                if let interpretation = record.interpretationText {
                    w.key("interpretations")
                    w.string(interpretation)
                }
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
        w.newline()
    }

    private func writeProcess(_ p: ProcessInfo, exec: ExecArguments?, workload: Workload?, into w: inout JSONWriter) {
        w.key("process")
        w.beginObject()
        if let pid = p.pid { w.key("pid"); w.number(pid) }
        if let ppid = p.ppid { w.key("ppid"); w.number(ppid) }
        if let exe = p.exe { w.key("exe"); w.string(exe) }
        if let comm = p.comm { w.key("comm"); w.string(comm) }
        if let exec {
            w.key("argv")
            w.beginArray()
            for argument in exec.argv { w.string(argument) }
            w.endArray()
            if let argc = exec.argc { w.key("argc"); w.number(argc) }
            if exec.isTruncated {
                w.key("argv_truncated")
                w.beginObject()
                w.key("omitted_bytes"); w.number(exec.omittedBytes)
                w.key("omitted_arguments"); w.number(exec.omittedArguments)
                w.endObject()
            }
        }
        if let title = p.title {
            w.key("proctitle")
            w.beginArray()
            for part in title { w.string(part) }
            w.endArray()
        }
        if let cwd = p.cwd { w.key("cwd"); w.string(cwd) }
        if let tty = p.tty { w.key("tty"); w.string(tty) }
        if let session = p.session { w.key("session"); w.number(session) }
        for role in IdentityRole.allCases {
            guard let identity = p[role] else { continue }
            w.key(bytes: Self.roleKeys[role.index])
            writeIdentity(identity, into: &w)
        }
        if let cgroup = workload?.cgroup { w.key("cgroup"); w.string(cgroup) }
        if let unit = workload?.unit { w.key("unit"); w.string(unit) }
        w.endObject()
    }

    /// `container`, `k8s` and `host` (docs/events.md).
    private func writeWorkload(_ workload: Workload, into w: inout JSONWriter) {
        if let container = workload.container {
            w.key("container")
            w.beginObject()
            w.key("id"); w.string(container.id)
            if let runtime = container.runtime { w.key("runtime"); w.string(runtime) }
            if let name = container.name { w.key("name"); w.string(name) }
            w.endObject()
        }
        if let pod = workload.pod {
            w.key("k8s")
            w.beginObject()
            w.key("pod")
            w.beginObject()
            w.key("uid"); w.string(pod.uid)
            if let name = pod.name { w.key("name"); w.string(name) }
            if let namespace = pod.namespace { w.key("namespace"); w.string(namespace) }
            if let qos = pod.qosClass { w.key("qos_class"); w.string(qos) }
            w.endObject()
            w.endObject()
        }
        if workload.isHost {
            w.key("host")
            w.bool(true)
        }
    }

    private static let hexPrefix: Bytes = Array("0x".utf8)[...]

    private static let roleKeys: [Bytes] = IdentityRole.allCases.map { Array($0.rawValue.utf8)[...] }

    private func writeIdentity(_ identity: Identity, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id")
        w.number(identity.id)
        if let name = identity.name {
            w.key("name")
            w.string(name)
        }
        w.endObject()
    }

    private func writeSyscall(_ s: SyscallInfo, into w: inout JSONWriter) {
        w.key("syscall")
        w.beginObject()
        if let name = s.name { w.key("name"); w.string(name) }
        w.key("number"); w.number(s.number)
        w.key("arch")
        if let archName = s.archName { w.string(archName) } else { w.string("0x" + String(s.arch, radix: 16)) }
        if let success = s.success { w.key("success"); w.bool(success) }
        if let exit = s.exit { w.key("exit"); w.number(exit) }
        if let errno = s.errnoName { w.key("errno"); w.string(errno) }
        if !s.arguments.isEmpty {
            w.key("args")
            w.beginArray()
            for argument in s.arguments { w.string(Self.hexPrefix + argument) }
            w.endArray()
        }
        w.endObject()
    }

    private func writePath(_ p: PathInfo, into w: inout JSONWriter) {
        w.beginObject()
        if let item = p.item { w.key("item"); w.number(item) }
        if let name = p.name { w.key("name"); w.string(name) }
        if let nametype = p.nametype { w.key("nametype"); w.string(nametype) }
        if let inode = p.inode { w.key("inode"); w.number(inode) }
        if let device = p.device { w.key("dev"); w.string(device) }
        if let mode = p.mode { w.key("mode"); w.string(mode) }
        if let owner = p.owner { w.key("owner"); writeIdentity(owner, into: &w) }
        if let group = p.group { w.key("group"); writeIdentity(group, into: &w) }
        w.endObject()
    }

    private func writeSocket(_ address: SocketAddress, into w: inout JSONWriter) {
        w.beginObject()
        w.key("family")
        w.string(address.familyName)
        switch address {
        case .inet(let ip, let port):
            w.key("address"); w.string(ip)
            w.key("port"); w.number(port)
        case .inet6(let ip, let port, let flow, let scope):
            w.key("address"); w.string(ip)
            w.key("port"); w.number(port)
            if flow != 0 { w.key("flowinfo"); w.number(flow) }
            if scope != 0 { w.key("scope_id"); w.number(scope) }
        case .unix(let path, let isAbstract):
            w.key("path")
            w.string(isAbstract ? [UInt8(ascii: "@")] + path : path)
            if isAbstract { w.key("abstract"); w.bool(true) }
        case .unixUnnamed:
            break
        case .netlink(let family, let pid, let groups):
            w.key("netlink_family"); w.number(family)
            w.key("pid"); w.number(pid)
            w.key("groups"); w.number(groups)
        case .other(_, let raw):
            w.key("raw"); w.string(hex(raw))
        }
        w.endObject()
    }

    private func writeMessage(_ m: UserMessage, name: StaticString, session: UInt32?, into w: inout JSONWriter) {
        w.key(name)
        w.beginObject()
        if let op = m.operation { w.key("op"); w.string(op) }
        if let account = m.account { w.key("account"); w.string(account) }
        if let id = m.accountID { w.key("account_id"); w.number(id) }
        if let exe = m.exe { w.key("exe"); w.string(exe) }
        if let hostname = m.hostname { w.key("hostname"); w.string(hostname) }
        if let address = m.address { w.key("address"); w.string(address) }
        if let terminal = m.terminal { w.key("terminal"); w.string(terminal) }
        if let result = m.result { w.key("result"); w.string(result) }
        if let grantors = m.grantors { w.key("grantors"); w.string(grantors) }
        if let session { w.key("session"); w.number(session) }
        w.endObject()
    }

    private func writeLoginSession(_ s: LoginSession, into w: inout JSONWriter) {
        w.key("session")
        w.beginObject()
        w.key("id")
        w.number(s.id)
        if let user = s.user { w.key("user"); w.string(user) }
        if let address = s.address { w.key("address"); w.string(address) }
        if let terminal = s.terminal { w.key("terminal"); w.string(terminal) }
        w.key("login_event")
        w.string(s.loginEventID)
        w.endObject()
    }

    /// Fields of a user-space message that `process` and `message` already carry.
    private static let messageKeys: [StaticString] = [
        "pid", "uid", "auid", "ses", "op", "acct", "id", "exe", "hostname", "addr", "terminal", "res", "grantors",
    ]

    /// Fields of records the structured sections do not carry (MMAP, CONFIG_CHANGE,
    /// BPRM_FCAPS, what is left of user messages, …), by record type, quotes removed.
    private func writeDetails(_ event: AuditEvent, into w: inout JSONWriter) {
        var opened = false
        for record in event.records where !Self.structured.contains(record.type.number) {
            let isMessage = record.type.role == .standalone
            let fields = record.fields.filter { field in
                !isMessage || !Self.messageKeys.contains { record.key(of: field).equals($0) }
            }
            if fields.isEmpty { continue }
            if !opened {
                w.key("details")
                w.beginArray()
                opened = true
            }
            w.beginObject()
            w.key("type")
            w.string(record.typeName)
            for field in fields {
                w.key(bytes: record.key(of: field))
                var value = record.value(of: field)
                if value.count >= 2, let first = value.first, first == value.last,
                   first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
                    value = value.dropFirst().dropLast()
                }
                w.string(value)
            }
            w.endObject()
        }
        if opened { w.endArray() }
    }

    private func hex(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0xf)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
