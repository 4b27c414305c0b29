import AuditEvents
import AuditRecords

/// nodeaudit's own event schema (docs/events.md): one JSON object per line.
public struct NativeJSONEncoder: EventEncoder {
    /// Adds every original record (type and text) to each event.
    public var includeRecords: Bool
    /// The cluster name and fields of every event (`cluster`, `fields`).
    public var staticFields: StaticFields
    /// Leaves out what repeats another field or says nothing (`events.profile: compact`,
    /// docs/events.md): log stores bill by the byte.
    public var compact: Bool

    public init(includeRecords: Bool = false, staticFields: StaticFields = .none, compact: Bool = false) {
        self.includeRecords = includeRecords
        self.staticFields = staticFields
        self.compact = compact
    }

    /// Record types whose content the structured sections already carry.
    private static func isStructured(_ type: RecordType) -> Bool {
        switch type.number {
        case RecordType.syscall.number, RecordType.execve.number, RecordType.cwd.number, RecordType.path.number,
             RecordType.proctitle.number, RecordType.sockaddr.number, RecordType.endOfEvent.number:
            return true
        default:
            return false
        }
    }

    public func encode(_ event: AuditEvent, into w: inout JSONWriter) {
        event.text.withBytes { encode(event, text: $0, into: &w) }
    }

    public var reduced: any EventEncoder { NativeJSONEncoder(includeRecords: false, staticFields: staticFields, compact: compact) }

    public func encodeSummary(_ event: AuditEvent, into w: inout JSONWriter) {
        w.beginObject()
        event.text.withBytes { writeIdentity(event, text: $0, into: &w) }
        w.endObject()
        w.newline()
    }

    /// What says which event this is, first in every line and all of a summary: id,
    /// time, serial, node, cluster, fields, category, record types, rule keys, techniques.
    private func writeIdentity(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        let stamp = event.key.stamp
        w.key("id")
        w.eventID(event.key)
        w.key("time")
        w.time(stamp)
        if !compact {
            w.key("serial")
            w.number(stamp.serial)
        }
        if let node = event.nodeName {
            w.key("node")
            w.string(node)
        }
        w.member("cluster", staticFields.clusterName)
        w.staticFields("fields", staticFields.fields)
        w.key("category")
        w.string(event.category.rawValue)
        if !compact {
            w.key("record_types")
            w.beginArray()
            for record in event.records { record.withTypeName { w.string($0) } }
            w.endArray()
        }
        if !event.keys.isEmpty {
            w.key("keys")
            w.array(event.keys, in: text)
            let techniques = AttackTechniques.ids(of: event.keys, in: text)
            if !techniques.isEmpty {
                w.key("techniques")
                w.array(techniques, in: text)
            }
        }
        if !event.labels.isEmpty {
            w.strings("labels", event.labels)
        }
        if !event.detections.isEmpty { w.detections(event.detections) }
    }

    /// `text`: the event's text, which its sections point into.
    private func encode(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.beginObject()
        writeIdentity(event, text: text, into: &w)
        // Sections are passed on as `event.x!`, not bound with `if let`: a binding would
        // copy the struct (a retain per field), and this runs for every event.
        if event.process != nil {
            writeProcess(event.process!, exec: event.exec, lineage: event.lineage, node: event.key.node, workload: event.workload,
                         text: text, into: &w)
        }
        if event.syscall != nil { writeSyscall(event.syscall!, hasExec: event.exec != nil, text: text, into: &w) }
        if !event.paths.isEmpty {
            w.key("paths")
            w.beginArray()
            for path in event.paths { writePath(path, text: text, into: &w) }
            w.endArray()
        }
        if let address = event.socketAddress {
            w.key("socket")
            writeSocket(address, into: &w)
        }
        if let message = event.message {
            // Logins are first-class: their fields under `login`, with the session id.
            if event.category == .login {
                writeMessage(message, name: "login", session: event.process?.session, text: text, into: &w)
            } else {
                writeMessage(message, name: "message", session: nil, text: text, into: &w)
            }
        }
        w.member("tty_input", event.ttyInput, in: text)
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
            if let command = session.command { w.execCommand(command) }
            w.endObject()
        }
        if let decision = event.accessDecision { w.accessDecision(decision, in: text) }
        writeDetails(event, into: &w)
        if let workload = event.workload { writeWorkload(workload, exec: event.kubernetesExec, into: &w) }
        if event.isUnattributed { w.key("unattributed"); w.bool(true) }
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
                record.withTypeName { w.string($0) }
                w.key("text")
                record.withText { w.string($0) }
                record.withInterpretationText {
                    w.key("interpretations")
                    w.string($0)
                }
                w.endObject()
            }
            w.endArray()
        }
        w.endObject()
        w.newline()
    }

    private func writeProcess(
        _ p: ProcessInfo, exec: ExecArguments?, lineage: Lineage?, node: Bytes?, workload: Workload?, text: UnsafeBufferPointer<UInt8>,
        into w: inout JSONWriter
    ) {
        w.key("process")
        w.beginObject()
        w.member("pid", p.pid)
        w.member("ppid", p.ppid)
        w.member("exe", p.exe, in: text)
        w.member("comm", p.comm, in: text)
        if exec != nil { writeArguments(exec!, text: text, into: &w) }
        if p.title != nil, !(compact && exec != nil && Self.equal(p.title!, exec!.argv, in: text)) {
            w.key("proctitle")
            w.array(p.title!, in: text)
        }
        w.member("cwd", p.cwd, in: text)
        w.member("tty", p.tty, in: text)
        w.member("session", p.session)
        // One copy of the ids, read by position: each `p.identities[…]` copied them all.
        let identities = p.identities
        // The objects written so far, by credential: euid, suid and fsuid are mostly the
        // uid, the group ids the gid, and each repeat is a copy of the bytes.
        var written = InlineArray<4, (identity: Identity, bytes: Range<Int>)?>(repeating: nil)
        var writtenCount = 0
        for index in identities.indices {
            guard let identity = identities[index], let role = IdentityRole(rawValue: index) else { continue }
            if compact, Self.saysNothing(role, identity, in: identities) { continue }
            w.key(role.field)
            if let earlier = (0..<writtenCount).first(where: { written[$0]!.identity == identity }) {
                w.repeatValue(at: written[earlier]!.bytes)
                continue
            }
            let start = w.count
            writeIdentity(identity, text: text, into: &w)
            if writtenCount < written.count {
                written[writtenCount] = (identity, start..<w.count)
                writtenCount += 1
            }
        }
        if let lineage { w.lineage(lineage, node: node, parentKey: "parent", ancestorsKey: "ancestors", executableKey: "exe", nameKey: "comm") }
        if let cgroup = workload?.cgroup { w.key("cgroup"); w.string(cgroup) }
        if let unit = workload?.unit { w.key("unit"); w.string(unit) }
        w.endObject()
    }

    private func writeArguments(_ exec: ExecArguments, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.key("argv")
        w.array(exec.argv, in: text)
        if !(compact && !exec.isTruncated && exec.argc == exec.argv.count) { w.member("argc", exec.argc) }
        if exec.isTruncated {
            w.key("argv_truncated")
            w.beginObject()
            w.key("omitted_bytes"); w.number(exec.omittedBytes)
            w.key("omitted_arguments"); w.number(exec.omittedArguments)
            w.endObject()
        }
    }

    /// `container`, `k8s` and `host` (docs/events.md).
    private func writeWorkload(_ workload: Workload, exec: KubernetesExec?, into w: inout JSONWriter) {
        if let container = workload.container { w.container(container) }
        if let pod = workload.pod {
            w.key("k8s")
            w.beginObject()
            w.key("pod")
            w.beginObject()
            w.key("uid"); w.string(pod.uid)
            w.member("name", pod.name)
            w.member("namespace", pod.namespace)
            w.member("qos_class", pod.qosClass)
            w.endObject()
            if let exec { w.kubernetesExec(exec) }
            w.endObject()
        }
        if workload.isHost {
            w.key("host")
            w.bool(true)
        }
    }

    private func writeIdentity(_ identity: Identity, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.beginObject()
        w.key("id")
        w.number(identity.id)
        w.member("name", identity.name, in: text)
        w.endObject()
    }

    /// `hasExec`: the arguments are pointers into the process (execve's), which compact leaves out.
    private func writeSyscall(_ s: SyscallInfo, hasExec: Bool, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.key("syscall")
        w.beginObject()
        w.member("name", s.name)
        if !(compact && s.name != nil) { w.key("number"); w.number(s.number) }
        w.key("arch")
        if let archName = s.archName { w.string(archName) } else { w.string("0x" + String(s.arch, radix: 16)) }
        if let success = s.success { w.key("success"); w.bool(success) }
        w.member("exit", s.exit)
        w.member("errno", s.errnoName)
        if s.arguments[0] != nil, !(compact && hasExec) {
            w.key("args")
            w.beginArray()
            for index in s.arguments.indices {
                guard let argument = s.arguments[index] else { break }
                w.beginString()
                w.rawStringContent("0x")
                w.escapedStringContent(UnsafeBufferPointer(rebasing: text[argument.range]))
                w.endString()
            }
            w.endArray()
        }
        w.endObject()
    }

    private func writePath(_ p: PathInfo, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.beginObject()
        if !compact { w.member("item", p.item) }
        w.member("name", p.name, in: text)
        if !(compact && p.nametype.map({ text[$0.range].elementsEqual("NORMAL".utf8) }) ?? true) {
            w.member("nametype", p.nametype, in: text)
        }
        if !compact {
            w.member("inode", p.inode)
            w.member("dev", p.device, in: text)
        }
        w.member("mode", p.mode, in: text)
        if let owner = p.owner { w.key("owner"); writeIdentity(owner, text: text, into: &w) }
        if let group = p.group { w.key("group"); writeIdentity(group, text: text, into: &w) }
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

    private func writeMessage(
        _ m: UserMessage, name: StaticString, session: UInt32?, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter
    ) {
        w.key(name)
        w.beginObject()
        w.member("op", m.operation, in: text)
        w.member("account", m.account, in: text)
        w.member("account_id", m.accountID)
        w.member("exe", m.exe, in: text)
        w.member("hostname", m.hostname, in: text)
        w.member("address", m.address, in: text)
        w.member("terminal", m.terminal, in: text)
        w.member("result", m.result, in: text)
        w.member("grantors", m.grantors, in: text)
        if let session { w.key("session"); w.number(session) }
        w.endObject()
    }

    private func writeLoginSession(_ s: LoginSession, into w: inout JSONWriter) {
        w.key("session")
        w.beginObject()
        w.key("id")
        w.number(s.id)
        w.member("user", s.user)
        w.member("address", s.address)
        w.member("terminal", s.terminal)
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
        for record in event.records where !Self.isStructured(record.type) {
            let isMessage = record.type.role == .standalone
            var any = !isMessage && record.fieldCount > 0
            if isMessage {
                record.forEachField { key, _ in
                    if !Self.messageKeys.contains(where: key.equals) { any = true }
                }
            }
            if !any || (compact && Self.grantsNothing(record)) { continue }
            if !opened {
                w.key("details")
                w.beginArray()
                opened = true
            }
            w.beginObject()
            w.key("type")
            record.withTypeName { w.string($0) }
            record.forEachField { key, value in
                if isMessage, Self.messageKeys.contains(where: key.equals) { return }
                w.key(bytes: key)
                if value.count >= 2, value[0] == value[value.count - 1],
                   value[0] == UInt8(ascii: "\"") || value[0] == UInt8(ascii: "'") {
                    w.string(UnsafeBufferPointer(rebasing: value[1..<(value.count - 1)]))
                } else if value.count >= 2, value.count % 2 == 0, EscapedFields.contains(key),
                          let decoded = UntrustedString.hex(Array(value)[...]) {
                    // A field libaudit hex-encodes when it holds a space or a quote (sudo's cmd, AppArmor's profile).
                    decoded.withUnsafeBufferPointer { w.string($0) }
                } else {
                    w.string(value)
                }
            }
            w.endObject()
        }
        if opened { w.endArray() }
    }

    /// Whether a compact event leaves the identity out: an unset auid (no login), or an
    /// euid, suid or fsuid equal to uid, an egid, sgid or fsgid equal to gid.
    private static func saysNothing(_ role: IdentityRole, _ identity: Identity, in identities: ProcessInfo.Identities) -> Bool {
        switch role {
        case .auid: identity.isUnset
        case .euid, .suid, .fsuid: identities[IdentityRole.uid.index]?.id == identity.id
        case .egid, .sgid, .fsgid: identities[IdentityRole.gid.index]?.id == identity.id
        case .uid, .gid: false
        }
    }

    /// Whether two lists of the event's values are the same (proctitle and argv).
    private static func equal(_ a: [TextRange], _ b: [TextRange], in text: UnsafeBufferPointer<UInt8>) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { text[$0.range].elementsEqual(text[$1.range]) }
    }

    /// A BPRM_FCAPS record of a file that carries no capability (fp, fi and fe all 0): it
    /// only repeats the process's own sets, which compact leaves out.
    private static func grantsNothing(_ record: AuditRecord) -> Bool {
        guard record.type.number == RecordType.bprmFcaps.number else { return false }
        var sets = 0
        record.forEachField { key, value in
            if key.equals("fp") || key.equals("fi") || key.equals("fe") {
                if value.count == 1, value[0] == UInt8(ascii: "0") { sets += 1 } else { sets -= 3 }
            }
        }
        return sets == 3
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
