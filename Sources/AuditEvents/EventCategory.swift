import AuditRecords

/// What kind of activity an event is, for routing and filtering without knowing record
/// types and syscall names.
public enum EventCategory: String, Sendable, CaseIterable {
    case exec
    case network
    case file
    case memory
    case process
    case login
    case account
    case privilege
    case config
    case daemon
    case tty
    case module
    case mount
    case namespace
    case other

    /// Classifies an event from its record types, syscall name and paths, most specific first.
    public static func classify(records: [AuditRecord], syscallName: String?) -> EventCategory {
        var hasPath = false
        var hasSockaddr = false
        for record in records {
            switch record.type.number {
            case RecordType.execve.number: return .exec
            case RecordType.sockaddr.number: hasSockaddr = true
            case RecordType.path.number: hasPath = true
            case RecordType.configChange.number: return .config
            case RecordType.tty.number, RecordType.userTTY.number: return .tty
            case RecordType.kernelModule.number: return .module
            default: break
            }
        }
        if let syscallName, let category = category(ofSyscall: syscallName) { return category }
        if hasSockaddr { return .network }
        if let first = records.first, RecordType.allMessages.contains(first.type.number),
           let category = byType[Int(first.type.number - RecordType.allMessages.lowerBound)] {
            return category
        }
        if hasPath { return .file }
        return .other
    }

    /// The category a syscall gives its event; nil for the syscalls that give none.
    static func category(ofSyscall name: String) -> EventCategory? {
        guard let initial = name.utf8.first, Int(initial) < bySyscallInitial.count else { return nil }
        for entry in bySyscallInitial[Int(initial)] where entry.name == name { return entry.category }
        return nil
    }

    /// The syscalls that decide a category, by their name's first byte: every event asks,
    /// and a few comparisons of short names cost less than hashing the name for a
    /// dictionary (callgrind, a flood of getpgid events: `classify` went from 888
    /// instructions an event to 451, with `byType` an array).
    private static let bySyscallInitial: [[(name: String, category: EventCategory)]] = {
        let groups: [(EventCategory, [String])] = [
            (.exec, ["execve", "execveat"]),
            (.network, ["socket", "socketpair", "connect", "accept", "accept4", "bind", "listen", "setsockopt",
                        "getsockopt", "sendto", "sendmsg", "sendmmsg", "recvfrom", "recvmsg", "recvmmsg", "socketcall",
                        "shutdown"]),
            (.memory, ["mmap", "mmap2", "mprotect", "pkey_mprotect", "memfd_create", "process_vm_writev",
                       "process_vm_readv"]),
            (.process, ["ptrace", "kill", "tkill", "tgkill", "pidfd_send_signal", "fork", "vfork", "clone",
                        "clone3", "prctl"]),
            (.module, ["init_module", "finit_module", "delete_module"]),
            (.mount, ["mount", "umount", "umount2", "fsmount", "move_mount", "fsopen", "fsconfig", "open_tree",
                      "pivot_root", "mount_setattr"]),
            (.namespace, ["setns", "unshare"]),
            (.privilege, ["setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "setfsuid",
                          "setfsgid", "capset", "setgroups"]),
        ]
        var table = [[(name: String, category: EventCategory)]](repeating: [], count: 128)
        for (category, names) in groups {
            for name in names { table[Int(name.utf8.first!)].append((name, category)) }
        }
        return table
    }()

    /// The category of single-record types, by type number from 1000 (libaudit's message
    /// range); an array, as every event without a syscall category asks.
    private static let byType: [EventCategory?] = {
        let groups: [(EventCategory, [String])] = [
            (.login, ["USER_AUTH", "USER_ACCT", "CRED_ACQ", "CRED_DISP", "CRED_REFR", "USER_START", "USER_END",
                      "USER_ERR", "USER_LOGIN", "USER_LOGOUT", "LOGIN", "GRP_AUTH"]),
            (.account, ["USER_MGMT", "USER_CHAUTHTOK", "ADD_USER", "DEL_USER", "ADD_GROUP", "DEL_GROUP", "GRP_MGMT",
                        "GRP_CHAUTHTOK", "ACCT_LOCK", "ACCT_UNLOCK", "CHUSER_ID", "CHGRP_ID"]),
            (.privilege, ["USER_CMD", "USER_ROLE_CHANGE", "ROLE_ASSIGN", "ROLE_REMOVE"]),
            (.config, ["USYS_CONFIG", "DAEMON_CONFIG", "KERNEL"]),
            (.daemon, ["DAEMON_START", "DAEMON_END", "DAEMON_ABORT", "DAEMON_ROTATE", "DAEMON_RESUME",
                       "DAEMON_ACCEPT", "DAEMON_CLOSE", "DAEMON_ERR"]),
        ]
        let range = RecordType.allMessages
        var table = [EventCategory?](repeating: nil, count: Int(range.upperBound - range.lowerBound) + 1)
        for (category, names) in groups {
            for name in names {
                if let type = RecordType(name: Array(name.utf8)[...]), range.contains(type.number) {
                    table[Int(type.number - range.lowerBound)] = category
                }
            }
        }
        return table
    }()
}
