/// The fields each Sigma log source can ask of nodeaudit's events, numbered once for all
/// sources: a rule's field names become numbers at load time, and a name its log source
/// cannot supply refuses the rule (it would never match, silently).
package enum SigmaLogSource: String, Sendable, CaseIterable {
    /// `service: auditd`: fields as audit records write them.
    case auditd
    case processCreation = "process_creation"
    case fileEvent = "file_event"
    case networkConnection = "network_connection"

    /// The log source a rule's `logsource` names; nil for one nodeaudit does not supply.
    init?(product: String?, category: String?, service: String?) {
        guard product == nil || product == "linux" else { return nil }
        switch (category, service) {
        case (nil, "auditd"): self = .auditd
        case ("process_creation", nil): self = .processCreation
        case ("file_event", nil): self = .fileEvent
        case ("network_connection", nil): self = .networkConnection
        default: return nil
        }
    }

    /// The names this log source supplies (nodeaudit's own dotted fields come with every one).
    package var fieldNames: [String] {
        switch self {
        case .auditd: SigmaFields.auditdRecordFields
        case .processCreation:
            ["Image", "CommandLine", "ParentImage", "ParentCommandLine", "CurrentDirectory", "User", "LogonId", "ProcessId",
             "ParentProcessId"]
        case .fileEvent: ["TargetFilename", "Image", "User", "ProcessId"]
        case .networkConnection: ["DestinationIp", "DestinationPort", "SourceIp", "SourcePort", "Initiated", "Image", "User", "ProcessId"]
        }
    }
}

package enum SigmaFields {
    /// The record fields of `service: auditd` rules (`a0`… are EXECVE's arguments, and
    /// SYSCALL's first four arguments in a SYSCALL record).
    static let auditdRecordFields: [String] = {
        let named = ["type", "key", "SYSCALL", "syscall", "arch", "success", "exit", "items", "ppid", "pid", "auid", "uid", "gid",
                     "euid", "suid", "fsuid", "egid", "sgid", "fsgid", "tty", "ses", "comm", "exe", "subj", "argc", "cwd", "name",
                     "nametype", "inode", "dev", "mode", "ouid", "ogid", "rdev", "item", "proctitle", "saddr", "res", "op",
                     "acct", "addr", "hostname", "terminal", "unit", "old-auid", "old-ses", "cap_fp", "cap_fi", "cap_fe", "fver",
                     "list", "audit_enabled", "old", "audit_backlog_limit", "fd0", "fd1", "family", "laddr", "lport"]
        return named + (0..<128).map { "a\($0)" }
    }()

    /// nodeaudit's own fields under their dotted names, for rules about nodes and pods.
    package static let nodeauditFields = [
        "container.id", "container.name", "container.runtime", "k8s.pod.name", "k8s.pod.namespace", "k8s.pod.uid",
        "exec_session.id", "exec_session.tty", "category", "process.exe", "process.comm", "user.name", "session.user",
        "parent.exe", "parent.args", "labels",
    ]

    /// Every name, numbered: a field's number is its place here.
    package static let all: [String] = {
        var names: [String] = []
        var seen = Set<String>()
        for source in SigmaLogSource.allCases {
            for name in source.fieldNames where seen.insert(name).inserted { names.append(name) }
        }
        for name in nodeauditFields where seen.insert(name).inserted { names.append(name) }
        return names
    }()

    private static let numbers: [String: Int] = Dictionary(uniqueKeysWithValues: all.enumerated().map { ($1, $0) })

    /// Each source's fields (its own, then nodeaudit's), name and number.
    package static let bySource: [SigmaLogSource: [(name: String, number: Int)]] = Dictionary(
        uniqueKeysWithValues: SigmaLogSource.allCases.map { source in
            (source, (source.fieldNames + nodeauditFields).map { ($0, numbers[$0]!) })
        })
    private static let numbersBySource: [SigmaLogSource: [String: Int]] = bySource.mapValues { fields in
        Dictionary(fields.map { ($0.name, $0.number) }, uniquingKeysWith: { first, _ in first })
    }

    /// The number of `name` in `source`, nil when the source cannot supply it.
    package static func number(of name: String, in source: SigmaLogSource) -> Int? {
        numbersBySource[source]?[name]
    }
}
