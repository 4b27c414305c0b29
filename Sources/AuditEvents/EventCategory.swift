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
        if let syscallName, let category = bySyscall[syscallName] { return category }
        if hasSockaddr { return .network }
        if let first = records.first, let category = byType[first.type.number] { return category }
        if hasPath { return .file }
        return .other
    }

    private static let bySyscall: [String: EventCategory] = {
        var table: [String: EventCategory] = [:]
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
        for (category, names) in groups {
            for name in names { table[name] = category }
        }
        return table
    }()

    /// Single-record types by category, named as libaudit names them.
    private static let byType: [UInt32: EventCategory] = {
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
        var table: [UInt32: EventCategory] = [:]
        for (category, names) in groups {
            for name in names {
                if let type = RecordType(name: Array(name.utf8)[...]) { table[type.number] = category }
            }
        }
        return table
    }()
}
