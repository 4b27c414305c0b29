#if canImport(Glibc)
import Glibc
#endif
import AuditEvents
import AuditRecords

/// An event as Sigma rules read it: the log sources' fields taken from nodeaudit's event
/// (docs/sigma.md lists each), and for `service: auditd` the fields of one of its records.
///
/// Built for each log source that concerns an event, and for each of its records; values
/// are read in place from the event's text or the record's bytes, except the few joined
/// once per event (`CommandLine`). A view borrows all it reads (`SigmaDetector.detect`
/// keeps them alive): one per record of every event, it must retain nothing.
struct EventFieldView: SigmaEvent {
    /// The values joined once per event for the views of its fields.
    struct JoinedValues {
        /// argv joined with spaces, for `CommandLine`; empty when the event is no exec.
        var commandLine: [UInt8] = []
        /// The parent's argv joined, for `ParentCommandLine`, when the lineage knows it.
        var parentCommandLine: [UInt8]?
        /// The file an event wrote, for `TargetFilename`.
        var targetFilename: [UInt8]?
    }

    private let eventPointer: UnsafePointer<AuditEvent>
    private var event: AuditEvent { _read { yield eventPointer.pointee } }
    var eventID: String { eventPointer.pointee.id }
    /// For `service: auditd`: the record whose fields are the rule's (nodeaudit's own
    /// dotted fields still come from the event).
    private let recordPointer: UnsafePointer<AuditRecord>?
    private let joinedPointer: UnsafePointer<JoinedValues>
    private var commandLine: [UInt8] { _read { yield joinedPointer.pointee.commandLine } }
    private var parentCommandLine: [UInt8]? { _read { yield joinedPointer.pointee.parentCommandLine } }
    private var targetFilename: [UInt8]? { _read { yield joinedPointer.pointee.targetFilename } }

    init(_ event: UnsafePointer<AuditEvent>, record: UnsafePointer<AuditRecord>? = nil, joined: UnsafePointer<JoinedValues>) {
        eventPointer = event
        recordPointer = record
        joinedPointer = joined
    }

    func anyValue(of field: Int, _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool? {
        guard field < EventField.byNumber.count, let source = EventField.byNumber[field] else { return nil }
        switch source {
        case .recordField(let key, let decoding):
            guard let recordPointer else { return nil }
            return Self.recordValue(recordPointer.pointee, key: key, decodes: decoding.decodes(in: recordPointer.pointee), visit)
        case .recordType:
            guard let recordPointer else { return nil }
            return recordPointer.pointee.withTypeName(visit)
        case .keys:
            guard !event.keys.isEmpty else { return nil }
            return event.keys.contains { Self.visit(event.text[$0], visit) }
        default:
            return eventValue(of: source, visit)
        }
    }

    /// The record's type, for a view of one record.
    var recordType: RecordType? { recordPointer?.pointee.type }

    /// Calls `visit` with each of the record's fields named in `names` (number and value as
    /// rules read it), in one pass over the record.
    func forEachRecordValue(_ names: RecordFieldNames, _ visit: (Int, UnsafeBufferPointer<UInt8>) -> Void) {
        guard let recordPointer, !names.isEmpty else { return }
        let isExecve = recordPointer.pointee.type == .execve
        names.forEachField(of: recordPointer.pointee) { name, value in
            Self.withRecordFieldValue(value, decodes: name.decoding.decodes(inExecve: isExecve)) { visit(name.number, $0) }
        }
    }

    /// Every field of `source` (and nodeaudit's own) the event has, with all its values.
    /// A record's own fields are read in one pass over it, the others one by one.
    func fields(of source: SigmaLogSource) -> [(name: String, values: [[UInt8]])] {
        var fields: [(name: String, values: [[UInt8]])] = []
        forEachReadableRecordField { name, value in
            let name = String(decoding: name, as: UTF8.self)
            if let index = fields.firstIndex(where: { $0.name == name }) { fields[index].values.append(Array(value)) } else { fields.append((name, [Array(value)])) }
        }
        return fields + SigmaFields.bySource[source, default: []].compactMap { name, number in
            if case .recordField = EventField.byNumber[number] { return nil }
            var values: [[UInt8]] = []
            guard anyValue(of: number, { values.append(Array($0)); return false }) != nil else { return nil }
            return (name, values)
        }
    }

    func anyKeywordValue(_ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        if recordPointer != nil {
            var found = false
            forEachReadableRecordField { _, value in
                if !found { found = visit(value) }
            }
            return found
        }
        if !commandLine.isEmpty, Self.visit(commandLine[...], visit) { return true }
        return event.paths.contains { path in path.name.map { Self.visit(event.text[$0], visit) } ?? false }
            || [event.process?.exe, event.process?.cwd, event.process?.comm].contains { range in
                range.map { Self.visit(event.text[$0], visit) } ?? false
            }
    }

    /// Each field of the record that auditd rules know, with its value as they read it
    /// (`recordFieldValue`): what `keywords` search and `sigma fields` shows.
    private func forEachReadableRecordField(_ visit: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) -> Void) {
        guard let recordPointer else { return }
        let record = recordPointer.pointee
        record.forEachField { name, value in
            guard let number = SigmaFields.number(of: String(decoding: name, as: UTF8.self), in: .auditd),
                  case .recordField(_, let decoding) = EventField.byNumber[number] else { return }
            Self.withRecordFieldValue(value, decodes: decoding.decodes(in: record)) { visit(name, $0) }
        }
    }

    private static func visit(_ bytes: Bytes, _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        bytes.withUnsafeBufferPointer(visit)
    }

    /// A record's field: its string value decoded (quoted or hex) for the fields a user
    /// controls, else the raw value without quotes. Every field of that name counts.
    private static func recordValue(_ record: AuditRecord, key: [UInt8], decodes: Bool,
                                    _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool? {
        var present = false
        var found = false
        record.forEachField { name, value in
            guard !found, Self.isField(key, named: name) else { return }
            present = true
            found = Self.withRecordFieldValue(value, decodes: decodes, visit)
        }
        return present ? found : nil
    }

    /// Whether a record field's name (in place) is `key`.
    private static func isField(_ key: [UInt8], named name: UnsafeBufferPointer<UInt8>) -> Bool {
        name.count == key.count && key.withUnsafeBufferPointer { memcmp($0.baseAddress!, name.baseAddress!, key.count) == 0 }
    }

    /// Calls `body` with a record field's value as rules read it: decoded from quotes or
    /// hex (NULs, which separate proctitle's arguments, read as spaces, as `ausearch -i`
    /// shows them), or raw without quotes, in place (no copy: the usual case, per field of
    /// every record of every event).
    private static func withRecordFieldValue<R>(_ value: UnsafeBufferPointer<UInt8>, decodes: Bool,
                                                _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        // The kernel's quoted form has nothing to decode inside its quotes.
        if value.count >= 2, value.first == UInt8(ascii: "\""), value.last == UInt8(ascii: "\"") {
            return body(UnsafeBufferPointer(rebasing: value[1..<(value.count - 1)]))
        }
        if decodes, let decoded = UntrustedString.decode(value) {
            let readable = decoded.contains(0) ? Array(decoded.map { $0 == 0 ? UInt8(ascii: " ") : $0 })[...] : decoded
            return readable.withUnsafeBufferPointer(body)
        }
        return body(value)
    }

    /// The values of an event-level field; nil when the event has none.
    /// Visits the values of an event-level field in place (every event asks several: no
    /// value is copied into an array for it); nil when the event has none.
    private func eventValue(of source: EventField, _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool? {
        let text = event.text
        func range(_ range: TextRange?) -> Bool? { range.map { Self.visit(text[$0], visit) } }
        func bytes(_ value: [UInt8]?) -> Bool? { value.map { $0.withUnsafeBufferPointer(visit) } }
        func string(_ value: String?) -> Bool? {
            guard var value else { return nil }
            return value.withUTF8(visit)
        }
        func number<T: BinaryInteger>(_ value: T?) -> Bool? { value.map { string(String($0)) } ?? nil }
        switch source {
        case .image, .processExe: return range(event.process?.exe)
        case .processComm: return range(event.process?.comm)
        case .commandLine: return event.exec == nil ? nil : bytes(commandLine)
        case .parentImage, .parentExe: return event.lineage?.parent.program.exe.map { Self.visit($0, visit) }
        case .parentCommandLine, .parentArgs: return bytes(parentCommandLine)
        case .currentDirectory: return range(event.process?.cwd)
        case .user, .userName:
            guard let uid = event.process?[.uid] else { return nil }
            return uid.name.map { Self.visit(text[$0], visit) } ?? number(uid.id)
        case .logonId: return number(event.process?.session)
        case .processId: return number(event.process?.pid)
        case .parentProcessId: return number(event.process?.ppid)
        case .targetFilename: return bytes(targetFilename)
        case .destinationIp, .destinationPort, .sourceIp, .sourcePort:
            guard let (address, port) = inetPeer else { return nil }
            let outbound = initiated
            switch source {
            case .destinationIp: return outbound ? string(address) : nil
            case .destinationPort: return outbound ? number(port) : nil
            case .sourceIp: return outbound ? nil : string(address)
            default: return outbound ? nil : number(port)
            }
        case .initiated: return inetPeer == nil ? nil : string(initiated ? "true" : "false")
        case .syscallName: return string(event.syscall?.name)
        case .containerID: return string(event.workload?.container?.id)
        case .containerName: return string(event.workload?.container?.name)
        case .containerRuntime: return string(event.workload?.container?.runtime)
        case .podName: return string(event.workload?.pod?.name)
        case .podNamespace: return string(event.workload?.pod?.namespace)
        case .podUID: return string(event.workload?.pod?.uid)
        case .execSessionID: return string(event.execSession?.id)
        case .execSessionTTY: return event.execSession.map { string($0.hasTTY ? "true" : "false")! }
        case .category: return string(event.category.rawValue)
        case .sessionUser: return event.loginSession?.user.map { Self.visit($0, visit) }
        case .labels: return event.labels.isEmpty ? nil : event.labels.contains { string($0)! }
        case .recordField, .recordType, .keys: return nil
        }
    }

    /// The peer of a connect or accept, when it is an IPv4 or IPv6 address.
    private var inetPeer: (String, UInt16)? {
        switch event.socketAddress {
        case .inet(let address, let port): (address, port)
        case .inet6(let address, let port, _, _): (address, port)
        default: nil
        }
    }

    /// Whether the node's process opened the connection (connect, sendto) rather than
    /// accepted it.
    private var initiated: Bool {
        guard let name = event.syscall?.name else { return true }
        return !name.hasPrefix("accept")
    }
}

/// Where a Sigma field's values come from in an event.
enum EventField {
    case image, commandLine, parentImage, parentCommandLine, currentDirectory, user, logonId, processId, parentProcessId
    case targetFilename
    case destinationIp, destinationPort, sourceIp, sourcePort, initiated
    case recordField(key: [UInt8], decoding: Decoding)
    case recordType, keys, syscallName
    case containerID, containerName, containerRuntime, podName, podNamespace, podUID, execSessionID, execSessionTTY
    case category, processExe, processComm, userName, sessionUser, parentExe, parentArgs, labels

    /// Whether a record field's value is a string a user controls, which the kernel writes
    /// quoted or in hex: decoded then. `a0`… are such strings in EXECVE, numbers in SYSCALL.
    enum Decoding {
        case never, always, inExecve

        func decodes(in record: AuditRecord) -> Bool { decodes(inExecve: record.type == .execve) }

        func decodes(inExecve isExecve: Bool) -> Bool { self == .always || (self == .inExecve && isExecve) }
    }

    /// The fields a user controls, decoded from the kernel's quoted or hex form.
    private static let decodedRecordFields: Set<String> = [
        "exe", "comm", "name", "cwd", "proctitle", "acct", "hostname", "addr", "terminal", "subj", "unit", "op", "old", "new",
    ]

    /// Indexed by field number (every number has one).
    static let byNumber: [EventField?] = {
        var table = [EventField?](repeating: nil, count: SigmaFields.all.count)
        let named: [String: EventField] = [
            "Image": .image, "CommandLine": .commandLine, "ParentImage": .parentImage, "ParentCommandLine": .parentCommandLine,
            "CurrentDirectory": .currentDirectory, "User": .user, "LogonId": .logonId, "ProcessId": .processId,
            "ParentProcessId": .parentProcessId, "TargetFilename": .targetFilename, "DestinationIp": .destinationIp,
            "DestinationPort": .destinationPort, "SourceIp": .sourceIp, "SourcePort": .sourcePort, "Initiated": .initiated,
            "type": .recordType, "key": .keys, "SYSCALL": .syscallName,
            "container.id": .containerID, "container.name": .containerName, "container.runtime": .containerRuntime,
            "k8s.pod.name": .podName, "k8s.pod.namespace": .podNamespace, "k8s.pod.uid": .podUID,
            "exec_session.id": .execSessionID, "exec_session.tty": .execSessionTTY, "category": .category,
            "process.exe": .processExe, "process.comm": .processComm, "user.name": .userName, "session.user": .sessionUser,
            "parent.exe": .parentExe, "parent.args": .parentArgs, "labels": .labels,
        ]
        for (number, name) in SigmaFields.all.enumerated() {
            if let field = named[name] {
                table[number] = field
            } else {
                // Every other auditd name is a record field; EXECVE's a0… are user strings.
                let isArgument = name.first == "a" && name.dropFirst().allSatisfy(\.isNumber) && name.count > 1
                let decoding: Decoding = isArgument ? .inExecve : decodedRecordFields.contains(name) ? .always : .never
                table[number] = .recordField(key: Array(name.utf8), decoding: decoding)
            }
        }
        return table
    }()
}
