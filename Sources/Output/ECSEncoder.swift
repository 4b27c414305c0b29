import AuditEvents
import AuditRecords

/// Events in the Elastic Common Schema, for Elastic and OpenSearch users whose dashboards
/// and detection rules read ECS fields (`event.category`, `process.*`, `user.*`,
/// `source`/`destination`, `file.*`, `container.*`, `orchestrator.*`). What ECS has no
/// field for (syscall, audit session, exec session, TTY input, the kernel's other records)
/// is under `nodeaudit.*`. docs/ecs.md lists every field.
public struct ECSEncoder: EventEncoder {
    /// What `event.module` and `event.dataset` say, and so which content selects the
    /// events: nodeaudit's own, or the values of Elastic's auditd integrations, whose
    /// prebuilt Linux rules then read them (docs/ecs.md, Elastic's content).
    public enum Dataset: String, Sendable, CaseIterable {
        /// `nodeaudit`, `nodeaudit.audit`.
        case nodeaudit
        /// `auditd`, `auditd_manager.auditd`, and `executed` as a successful exec's action.
        case auditd
    }

    /// The cluster name and fields of every event (`orchestrator.cluster.name`, `labels`).
    public var staticFields: StaticFields
    public var dataset: Dataset

    public init(staticFields: StaticFields = .none, dataset: Dataset = .nodeaudit) {
        self.staticFields = staticFields
        self.dataset = dataset
    }

    public func encode(_ event: AuditEvent, into w: inout JSONWriter) {
        event.text.withBytes { encode(event, text: $0, into: &w) }
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
        // A Sigma rule matched: the event is an alert, as ECS calls what a detection raised.
        w.string(event.detections.isEmpty ? "event" : "alert")
        switch dataset {
        case .nodeaudit:
            w.member("module", "nodeaudit")
            w.member("dataset", "nodeaudit.audit")
        case .auditd:
            w.member("module", "auditd")
            w.member("dataset", "auditd_manager.auditd")
        }
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
        writeHost(event.nodeName, into: &w)
        w.staticFields("labels", staticFields.fields)
        if !event.keys.isEmpty {
            w.key("tags")
            w.beginArray()
            event.keys.forEach { w.string($0, in: text) }
            w.endArray()
        }
        if event.detections.isEmpty {
            writeThreat(AttackTechniques.ids(of: event.keys, in: text), text: text, into: &w)
        } else {
            writeDetections(event, text: text, into: &w)
        }
        if let process = event.process {
            writeProcess(process, event: event, text: text, into: &w)
            writeUser(process, message: event.message, text: text, into: &w)
        }
        let peer = writeNetwork(event, text: text, into: &w)
        writeRelated(event, peer: peer, text: text, into: &w)
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
        if dataset == .auditd, event.exec != nil, event.syscall?.success == true {
            w.string("executed")
        } else if let name = event.syscall?.name {
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

    /// The syscall's result, else the message's, else an access decision's (an AVC
    /// `denied` is a failure of what was tried).
    static func outcome(_ event: AuditEvent) -> String {
        if let success = event.syscall?.success { return success ? "success" : "failure" }
        if let result = event.message?.result { return event.text[result].equals("success") ? "success" : "failure" }
        if let decision = event.accessDecision?.result {
            if event.text[decision].equals("denied") { return "failure" }
            if event.text[decision].equals("granted") { return "success" }
        }
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
        case .daemon:
            if recordType == .daemonStart { return (["host"], ["start"]) }
            if recordType == .daemonEnd || recordType == .daemonAbort { return (["host"], ["end"]) }
            return (["host"], ["info"])
        case .other: return (["host"], ["info"])
        }
    }

    // MARK: - host.*, threat.*

    /// `host.name` and `host.hostname`: the node's name (live: always; a log: its
    /// `node=`); `host.os.type`: these are a Linux kernel's records.
    private func writeHost(_ node: Bytes?, into w: inout JSONWriter) {
        w.key("host")
        w.beginObject()
        if let node {
            w.member("name", node)
            w.member("hostname", node)
        }
        w.key("os")
        w.beginObject()
        w.member("type", "linux")
        w.endObject()
        w.endObject()
    }

    /// `rule.*`: the Sigma rule of the highest level that matched (the first of those); and
    /// the techniques of the keys and of every matched rule's `attack.tNNNN` tags in
    /// `threat.*` (the rules' tags are added to a copy of the text, for the ranges).
    private func writeDetections(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        let top = event.detections.max { $0.level < $1.level }!
        w.key("rule")
        w.beginObject()
        w.member("id", top.id)
        w.member("name", top.title)
        w.member("ruleset", "sigma")
        w.endObject()
        var extended = Array(text)
        var ids = AttackTechniques.ids(of: event.keys, in: text)
        for tag in event.detections.flatMap(\.tags) {
            guard let id = ECSValues.technique(ofSigmaTag: tag) else { continue }
            let start = extended.count
            extended.append(contentsOf: id.utf8)
            ids.append(start..<extended.count)
        }
        extended.withUnsafeBufferPointer { writeThreat(ids, text: $0, into: &w) }
    }

    /// `threat.technique.id` holds techniques (`T1548`), `subtechnique.id` the whole ids
    /// of sub-techniques (`T1548.003`), each once.
    private func writeThreat(_ ids: [Range<Int>], text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        guard !ids.isEmpty else { return }
        var techniques: [Range<Int>] = []
        var subtechniques: [Range<Int>] = []
        for id in ids {
            let (technique, isSubtechnique) = ECSValues.parentTechnique(id, in: text)
            if !techniques.contains(where: { text[$0].elementsEqual(text[technique]) }) { techniques.append(technique) }
            if isSubtechnique, !subtechniques.contains(where: { text[$0].elementsEqual(text[id]) }) { subtechniques.append(id) }
        }
        w.key("threat")
        w.beginObject()
        w.member("framework", "MITRE ATT&CK")
        w.key("technique")
        w.beginObject()
        w.key("id")
        w.array(techniques, in: text)
        if !subtechniques.isEmpty {
            w.key("subtechnique")
            w.beginObject()
            w.key("id")
            w.array(subtechniques, in: text)
            w.endObject()
        }
        w.endObject()
        w.endObject()
    }

    // MARK: - process.*, user.*

    private func writeProcess(_ p: ProcessInfo, event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        let exec = event.exec
        w.key("process")
        w.beginObject()
        w.member("pid", p.pid)
        // The program's start: this event when it is a successful exec, else the exec the
        // stream showed before (with ancestry).
        let start = exec != nil && event.syscall?.success == true ? event.key.stamp : event.lineage?.processExec
        if let pid = p.pid, let start { writeStart(start, pid: pid, node: event.key.node, into: &w) }
        if let lineage = event.lineage {
            let parent = lineage.parent
            w.key("parent")
            w.beginObject()
            w.ancestorProgram(parent, executableKey: "executable", nameKey: "name")
            if let exec = parent.exec { writeStart(exec, pid: parent.pid, node: event.key.node, into: &w) }
            w.endObject()
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
            writeJoined(argv, text: text, into: &w)
        }
        if let title = p.title {
            w.key("title")
            writeJoined(title, text: text, into: &w)
        }
        w.member("working_directory", p.cwd, in: text)
        if let tty = p.tty, let device = ECSValues.ttyDevice(UnsafeBufferPointer(rebasing: text[tty.range])) {
            w.key("tty")
            w.beginObject()
            w.key("char_device")
            w.beginObject()
            w.member("major", device.major)
            w.member("minor", device.minor)
            w.endObject()
            w.endObject()
        }
        w.endObject()
    }

    /// `start` and `entity_id` of a process whose program began at `exec`: the id is the
    /// exec event's id and the pid (`node/SECONDS.MILLIS:SERIAL/PID`), the same on every
    /// event of that program, and never another process's.
    private func writeStart(_ exec: AuditStamp, pid: UInt32, node: Bytes?, into w: inout JSONWriter) {
        w.key("start")
        w.time(exec)
        w.key("entity_id")
        w.beginString()
        w.eventIDContent(EventKey(stamp: exec, node: node))
        w.rawStringContent("/")
        w.decimalStringContent(UInt64(pid))
        w.endString()
    }

    /// Arguments joined by spaces, as one string (`command_line`, `title`).
    private func writeJoined(_ arguments: [TextRange], text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        w.beginString()
        for (index, argument) in arguments.enumerated() {
            if index > 0 { w.rawStringContent(" ") }
            w.escapedStringContent(UnsafeBufferPointer(rebasing: text[argument.range]))
        }
        w.endString()
    }

    private func writeUser(_ p: ProcessInfo, message: UserMessage?, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        guard p[.uid] != nil || message?.account != nil else { return }
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

    // MARK: - source/destination, network.*, related.*, file.*, container.*, orchestrator.*

    /// Writes `source`/`destination` and `network`; returns the IP address written, if any
    /// (for `related.ip`).
    private func writeNetwork(_ event: AuditEvent, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) -> String? {
        let syscall = event.syscall?.name ?? ""
        if let address = event.socketAddress {
            // connect names the peer it goes to; accept and recvfrom the peer it came from;
            // bind the local address, which ECS calls source too.
            let inbound = ["accept", "accept4", "recvfrom", "recvmsg", "bind"].contains(syscall)
            switch address {
            case .inet(let ip, let port), .inet6(let ip, let port, _, _):
                w.key(inbound ? "source" : "destination")
                w.beginObject()
                w.member("address", ip)
                w.member("ip", ip)
                w.member("port", port)
                w.endObject()
                w.key("network")
                w.beginObject()
                w.member("type", address.familyName == "inet" ? "ipv4" : "ipv6")
                // From the node's side: what it accepted came in, what it sent to went out.
                if ["accept", "accept4", "recvfrom", "recvmsg"].contains(syscall) {
                    w.member("direction", "ingress")
                } else if ["connect", "sendto", "sendmsg"].contains(syscall) {
                    w.member("direction", "egress")
                }
                w.endObject()
                return ip
            case .unix(let path, let isAbstract):
                w.key(inbound ? "source" : "destination")
                w.beginObject()
                w.key("address")
                w.string(isAbstract ? [UInt8(ascii: "@")] + path : path)
                w.endObject()
            default:
                break
            }
        } else if syscall == "socket", let syscallInfo = event.syscall {
            writeSocketNetwork(syscallInfo, text: text, into: &w)
        } else if let address = event.message?.address, !event.text[address].equals("?") {
            // A login's client: an address, or a host name from reverse DNS, which the
            // client's owner controls; only an address goes into `ip`.
            let isAddress = ECSValues.isIPAddress(UnsafeBufferPointer(rebasing: text[address.range]))
            w.key("source")
            w.beginObject()
            w.member("address", address, in: text)
            if isAddress { w.member("ip", address, in: text) } else { w.member("domain", address, in: text) }
            w.endObject()
            return isAddress ? event.string(address) : nil
        }
        return nil
    }

    /// `network.type` and `transport` of a `socket()` call, from its arguments.
    private func writeSocketNetwork(_ syscall: SyscallInfo, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        func argument(_ index: Int) -> UInt64? {
            syscall.arguments[index].flatMap { ByteNumbers.hexadecimal(UnsafeBufferPointer(rebasing: text[$0.range])) }
        }
        guard let family = argument(0), family == 2 || family == 10 else { return }
        w.key("network")
        w.beginObject()
        w.member("type", family == 2 ? "ipv4" : "ipv6")
        if let type = argument(1), let proto = argument(2), let transport = ECSValues.transport(family: family, type: type, protocol: proto) {
            w.member("transport", transport)
        }
        w.endObject()
    }

    /// `related.user` (every user name on the event, once) and `related.ip` (the peer).
    private func writeRelated(_ event: AuditEvent, peer: String?, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        var users = InlineArray<4, TextRange?>(repeating: nil)
        var userCount = 0
        func add(_ name: TextRange?) {
            guard let name, userCount < users.count else { return }
            for index in 0..<userCount where text[users[index]!.range].elementsEqual(text[name.range]) { return }
            users[userCount] = name
            userCount += 1
        }
        if let process = event.process {
            add(process[.uid]?.name)
            add(process[.euid]?.name)
            if let auid = process[.auid], !auid.isUnset { add(auid.name) }
        }
        add(event.message?.account)
        guard userCount > 0 || peer != nil else { return }
        w.key("related")
        w.beginObject()
        if userCount > 0 {
            w.key("user")
            w.beginArray()
            for index in 0..<userCount { w.string(users[index]!, in: text) }
            w.endArray()
        }
        if let peer {
            w.key("ip")
            w.beginArray()
            w.string(peer)
            w.endArray()
        }
        w.endObject()
    }

    private func writeFile(_ p: PathInfo, text: UnsafeBufferPointer<UInt8>, into w: inout JSONWriter) {
        guard let name = p.name else { return }
        w.key("file")
        w.beginObject()
        w.key("path")
        w.string(name, in: text)
        let path = UnsafeBufferPointer(rebasing: text[name.range])
        let (directory, fileName) = ECSValues.splitPath(path)
        if let directory { w.key("directory"); w.string(UnsafeBufferPointer(rebasing: path[directory])) }
        if let fileName { w.key("name"); w.string(UnsafeBufferPointer(rebasing: path[fileName])) }
        w.member("device", p.device, in: text)
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
        w.ecsOrchestrator(clusterName: staticFields.clusterName, isKubernetes: pod != nil, namespace: pod?.namespace, podUID: pod?.uid,
                          podName: pod?.name)
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
        if !event.detections.isEmpty { w.detections(event.detections) }
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
        if let auid = event.process?[.auid], !auid.isUnset {
            // The login user behind the process (ECS has no field for it).
            w.key("audit_user")
            w.beginObject()
            writeIdentityFields(auid, text: text, into: &w)
            w.endObject()
        }
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
            if let command = execSession.command { w.execCommand(command) }
            w.endObject()
        }
        if let exec = event.kubernetesExec {
            w.key("k8s")
            w.beginObject()
            w.kubernetesExec(exec)
            w.endObject()
        }
        w.member("tty_input", event.ttyInput, in: text)
        if event.workload?.isHost == true { w.key("host_process"); w.bool(true) }
        if event.isUnattributed { w.key("unattributed"); w.bool(true) }
        if event.isLate { w.key("late"); w.bool(true) }
        w.endObject()
    }
}

extension JSONWriter {
    /// ECS `orchestrator`: the cluster's name; for Kubernetes its type, and the pod's
    /// namespace and `resource` when one is named (node events, k8s_api and k8s_exec events).
    public mutating func ecsOrchestrator(clusterName: String?, isKubernetes: Bool, namespace: String? = nil, podUID: String? = nil,
                                         podName: String? = nil) {
        key("orchestrator")
        beginObject()
        if let clusterName {
            key("cluster")
            beginObject()
            member("name", clusterName)
            endObject()
        }
        if isKubernetes {
            member("type", "kubernetes")
            member("namespace", namespace)
            if podUID != nil || podName != nil {
                key("resource")
                beginObject()
                member("type", "pod")
                member("id", podUID)
                member("name", podName)
                endObject()
            }
        }
        endObject()
    }
}
