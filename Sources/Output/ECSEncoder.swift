import AuditEvents
import AuditRecords

/// Events in the Elastic Common Schema, for Elastic and OpenSearch users whose dashboards
/// and detection rules read ECS fields (`event.category`, `process.*`, `user.*`,
/// `source`/`destination`, `file.*`, `container.*`, `orchestrator.*`). What ECS has no
/// field for (syscall, audit session, exec session, TTY input, the kernel's other records)
/// is under `nodeaudit.*`. docs/ecs.md lists every field.
public struct ECSEncoder: EventEncoder {
    /// The cluster name and fields of every event (`orchestrator.cluster.name`, `labels`).
    public var staticFields: StaticFields

    public init(staticFields: StaticFields = .none) {
        self.staticFields = staticFields
    }

    public func encode(_ event: AuditEvent, into w: inout JSONWriter) {
        event.text.bytes.withUnsafeBufferPointer { encode(event, text: $0, into: &w) }
    }

    /// ECS events carry no original records: nothing to leave out but everything.
    public var reduced: any EventEncoder { self }

    public func encodeSummary(_ event: AuditEvent, into w: inout JSONWriter) {
        w.beginObject()
        w.key("@timestamp")
        w.time(event.key.stamp)
        w.key("event")
        w.beginObject()
        writeEventIdentity(event, into: &w)
        w.endObject()
        w.key("nodeaudit")
        w.beginObject()
        writeVendorIdentity(event, into: &w)
        w.endObject()
        w.endObject()
        w.newline()
    }

    /// `event.id`, `kind`, `module`, `dataset`, `sequence`: first in `event` of every
    /// line, and all of it in a summary.
    private func writeEventIdentity(_ event: AuditEvent, into w: inout JSONWriter) {
        w.key("id")
        w.eventID(event.key)
        w.key("kind")
        w.string("event")
        w.key("module")
        w.string("nodeaudit")
        w.key("dataset")
        w.string("nodeaudit.audit")
        w.key("sequence")
        w.number(event.key.stamp.serial)
    }

    /// `nodeaudit.category` and `record_types`, first in `nodeaudit` of every line.
    private func writeVendorIdentity(_ event: AuditEvent, into w: inout JSONWriter) {
        w.key("category")
        w.string(event.category.rawValue)
        w.key("record_types")
        w.beginArray()
        event.records.forEach { record in record.withTypeName { w.string($0) } }
        w.endArray()
    }

    /// `text`: the event's text, which its sections point into.
    private func encode(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        let stamp = event.key.stamp
        w.beginObject()
        w.key("@timestamp")
        w.time(stamp)
        writeEvent(event, text: text, into: &w)
        w.key("ecs")
        w.beginObject()
        w.key("version")
        w.string("8.11.0")
        w.endObject()
        if let node = event.nodeName {
            w.key("host")
            w.beginObject()
            w.key("name")
            w.string(node)
            w.endObject()
        }
        w.staticFields("labels", staticFields.fields)
        if !event.keys.isEmpty {
            w.key("tags")
            w.beginArray()
            event.keys.forEach { w.string($0, in: text) }
            w.endArray()
            let techniques = AttackTechniques.ids(of: event.keys, in: text)
            if !techniques.isEmpty {
                w.key("threat")
                w.beginObject()
                w.member("framework", "MITRE ATT&CK")
                w.key("technique")
                w.beginObject()
                w.key("id")
                w.array(techniques, in: text)
                w.endObject()
                w.endObject()
            }
        }
        if let process = event.process {
            writeProcess(process, exec: event.exec, lineage: event.lineage, node: event.key.node, text: text, into: &w)
            writeUser(process, message: event.message, text: text, into: &w)
        }
        writeNetwork(event, text: text, into: &w)
        if let path = event.paths.first(where: { $0.nametype.map { !event.text[$0].equals("PARENT") } ?? true }) {
            writeFile(path, text: text, into: &w)
        }
        if let container = event.workload?.container { w.container(container) }
        writeOrchestrator(pod: event.workload?.pod, into: &w)
        writeVendor(event, text: text, into: &w)
        w.endObject()
        w.newline()
    }

    // MARK: - event.*

    private func writeEvent(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        let (categories, types) = Self.classification(event)
        w.key("event")
        w.beginObject()
        writeEventIdentity(event, into: &w)
        w.key("category")
        w.beginArray()
        categories.forEach { w.string($0) }
        w.endArray()
        w.key("type")
        w.beginArray()
        types.forEach { w.string($0) }
        w.endArray()
        w.key("action")
        if let name = event.syscall?.name {
            w.string(name)
        } else if let operation = event.message?.operation {
            w.string(operation, in: text)
        } else {
            w.string((event.records.first?.typeName ?? "unknown").lowercased())
        }
        w.key("outcome")
        w.string(Self.outcome(event))
        w.endObject()
    }

    static func outcome(_ event: AuditEvent) -> String {
        if let success = event.syscall?.success { return success ? "success" : "failure" }
        if let result = event.message?.result { return event.text[result].equals("success") ? "success" : "failure" }
        return "unknown"
    }

    /// ECS `event.category` and `event.type` for nodeaudit's category (and syscall).
    static func classification(_ event: AuditEvent) -> ([String], [String]) {
        let syscall = event.syscall?.name ?? ""
        let recordType = event.records.first?.type
        switch event.category {
        case .exec: return (["process"], ["start"])
        case .process, .memory, .namespace, .privilege: return (["process"], ["change"])
        case .network:
            if ["connect", "accept", "accept4"].contains(syscall) { return (["network"], ["connection", "start"]) }
            return (["network"], ["info"])
        case .file:
            if syscall.hasPrefix("unlink") || syscall == "rmdir" { return (["file"], ["deletion"]) }
            if ["creat", "mkdir", "mkdirat", "mknod", "mknodat"].contains(syscall) { return (["file"], ["creation"]) }
            if ["open", "openat", "openat2", "execve"].contains(syscall) { return (["file"], ["access"]) }
            return (["file"], ["change"])
        case .login:
            if recordType == .userStart || recordType == .userLogin || recordType == .login {
                return (["authentication", "session"], ["start"])
            }
            if recordType == .userEnd { return (["session"], ["end"]) }
            return (["authentication"], ["info"])
        case .account: return (["iam"], ["user", "change"])
        case .config: return (["configuration"], ["change"])
        case .tty: return (["session"], ["info"])
        case .module: return (["driver"], ["change"])
        case .mount: return (["host"], ["change"])
        case .daemon, .other: return (["host"], ["info"])
        }
    }

    // MARK: - process.*, user.*

    private func writeProcess(
        _ p: ProcessInfo, exec: ExecArguments?, lineage: Lineage?, node: Bytes?, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter
    ) {
        w.key("process")
        w.beginObject()
        w.member("pid", p.pid)
        if let lineage {
            w.lineage(lineage, node: node, parentKey: "parent", ancestorsKey: nil, executableKey: "executable", nameKey: "name")
        } else if let ppid = p.ppid {
            w.key("parent")
            w.beginObject()
            w.key("pid")
            w.number(ppid)
            w.endObject()
        }
        w.member("executable", p.exe, in: text)
        w.member("name", p.comm, in: text)
        if let argv = exec?.argv ?? p.title {
            w.key("args")
            w.array(argv, in: text)
            w.key("args_count")
            w.number(exec?.argc ?? argv.count)
            w.key("command_line")
            w.beginString()
            for (index, argument) in argv.enumerated() {
                if index > 0 { w.rawStringContent(" ") }
                w.escapedStringContent(UnsafeBufferPointer(rebasing: text[argument.range]))
            }
            w.endString()
        }
        w.member("working_directory", p.cwd, in: text)
        if let session = p.session {
            w.key("session_leader")
            w.beginObject()
            w.key("entity_id")
            w.string("ses-\(session)")
            w.endObject()
        }
        w.endObject()
    }

    private func writeUser(_ p: ProcessInfo, message: UserMessage?, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        guard p[.uid] != nil || p[.auid] != nil || message?.account != nil else { return }
        w.key("user")
        w.beginObject()
        if let uid = p[.uid] {
            writeIdentityFields(uid, text: text, into: &w)
        } else {
            w.member("name", message?.account, in: text)
        }
        if let euid = p[.euid], euid.id != p[.uid]?.id {
            w.key("effective")
            w.beginObject()
            writeIdentityFields(euid, text: text, into: &w)
            w.endObject()
        }
        if let gid = p[.gid] {
            w.key("group")
            w.beginObject()
            writeIdentityFields(gid, text: text, into: &w)
            w.endObject()
        }
        if let auid = p[.auid], !auid.isUnset {
            // The login user behind the process: ECS has no field; auditbeat's name is used.
            w.key("audit")
            w.beginObject()
            writeIdentityFields(auid, text: text, into: &w)
            w.endObject()
        }
        if let account = message?.account, p[.uid] != nil {
            w.key("target")
            w.beginObject()
            w.key("name")
            w.string(account, in: text)
            w.endObject()
        }
        w.endObject()
    }

    /// `"id":"0","name":"root"`: ECS ids are strings.
    private func writeIdentityFields(_ identity: Identity, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.key("id")
        w.string(String(identity.id))
        w.member("name", identity.name, in: text)
    }

    // MARK: - source/destination, file.*, container.*, orchestrator.*

    private func writeNetwork(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        if let address = event.socketAddress {
            // connect names the peer it goes to; accept and recvfrom the peer it came from;
            // bind the local address, which ECS calls source too.
            let inbound = ["accept", "accept4", "recvfrom", "recvmsg", "bind"].contains(event.syscall?.name ?? "")
            switch address {
            case .inet(let ip, let port), .inet6(let ip, let port, _, _):
                w.key(inbound ? "source" : "destination")
                w.beginObject()
                w.key("ip")
                w.string(ip)
                w.key("port")
                w.number(port)
                w.endObject()
                w.key("network")
                w.beginObject()
                w.key("type")
                w.string(address.familyName == "inet" ? "ipv4" : "ipv6")
                w.endObject()
            case .unix(let path, let isAbstract):
                w.key(inbound ? "source" : "destination")
                w.beginObject()
                w.key("address")
                w.string(isAbstract ? [UInt8(ascii: "@")] + path : path)
                w.endObject()
            default:
                break
            }
        } else if let address = event.message?.address, !event.text[address].equals("?") {
            w.key("source")
            w.beginObject()
            w.key("ip")
            w.string(address, in: text)
            w.endObject()
        }
    }

    private func writeFile(_ p: PathInfo, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        guard let name = p.name else { return }
        w.key("file")
        w.beginObject()
        w.key("path")
        w.string(name, in: text)
        if let inode = p.inode { w.key("inode"); w.string(String(inode)) }
        if let mode = p.mode { w.key("mode"); w.string(UnsafeBufferPointer(rebasing: text[mode.range].suffix(4))) }
        if let owner = p.owner {
            w.key("uid")
            w.string(String(owner.id))
            w.member("owner", owner.name, in: text)
        }
        if let group = p.group {
            w.key("gid")
            w.string(String(group.id))
            w.member("group", group.name, in: text)
        }
        w.endObject()
    }

    /// `orchestrator.*`: the configured cluster's name, and the pod when there is one.
    private func writeOrchestrator(pod: Workload.Pod?, into w: inout JSONWriter) {
        guard pod != nil || staticFields.clusterName != nil else { return }
        w.key("orchestrator")
        w.beginObject()
        if let clusterName = staticFields.clusterName {
            w.key("cluster")
            w.beginObject()
            w.member("name", clusterName)
            w.endObject()
        }
        if let pod {
            w.key("type")
            w.string("kubernetes")
            w.member("namespace", pod.namespace)
            w.key("resource")
            w.beginObject()
            w.key("type")
            w.string("pod")
            w.key("id")
            w.string(pod.uid)
            w.member("name", pod.name)
            w.endObject()
        }
        w.endObject()
    }

    // MARK: - nodeaudit.*

    private func writeVendor(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.key("nodeaudit")
        w.beginObject()
        writeVendorIdentity(event, into: &w)
        if let lineage = event.lineage, !lineage.ancestors.isEmpty { w.ancestors("ancestors", lineage.ancestors, executableKey: "executable") }
        if !event.labels.isEmpty {
            w.strings("labels", event.labels)
        }
        if let decision = event.accessDecision { w.accessDecision(decision, in: text) }
        if let syscall = event.syscall {
            w.key("syscall")
            w.beginObject()
            w.member("name", syscall.name)
            w.key("number")
            w.number(syscall.number)
            w.member("arch", syscall.archName)
            w.member("exit", syscall.exit)
            w.member("errno", syscall.errnoName)
            w.endObject()
        }
        if let session = event.process?.session { w.key("session"); w.number(session) }
        if let login = event.loginSession {
            w.key("login")
            w.beginObject()
            w.member("user", login.user)
            w.member("address", login.address)
            w.key("event_id")
            w.string(login.loginEventID)
            w.endObject()
        }
        if let execSession = event.execSession {
            w.key("exec_session")
            w.beginObject()
            w.key("id")
            w.string(execSession.id)
            w.key("tty")
            w.bool(execSession.hasTTY)
            w.endObject()
        }
        w.member("tty_input", event.ttyInput, in: text)
        if event.workload?.isHost == true { w.key("host_process"); w.bool(true) }
        if event.isUnattributed { w.key("unattributed"); w.bool(true) }
        if event.isLate { w.key("late"); w.bool(true) }
        w.endObject()
    }
}
