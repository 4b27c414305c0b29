/// The calls behind the multiplexing syscalls of i386 and some other architectures:
/// `socketcall(call, args)` and `ipc(call, …)`, whose first argument says which socket or
/// System V IPC call it is. Named as libauparse names them: `socketcall(connect)`.
public enum Subcall {
    /// linux/net.h SYS_SOCKET (1) … SYS_SENDMMSG (20).
    private static let socketcalls: [String] = [
        "socket", "bind", "connect", "listen", "accept", "getsockname", "getpeername", "socketpair", "send", "recv",
        "sendto", "recvfrom", "shutdown", "setsockopt", "getsockopt", "sendmsg", "recvmsg", "accept4", "recvmmsg", "sendmmsg",
    ]

    /// linux/ipc.h: the call is in the low 16 bits (the version above them).
    private static let ipcCalls: [UInt64: String] = [
        1: "semop", 2: "semget", 3: "semctl", 4: "semtimedop", 11: "msgsnd", 12: "msgrcv", 13: "msgget", 14: "msgctl",
        21: "shmat", 22: "shmdt", 23: "shmget", 24: "shmctl",
    ]

    /// `socketcall(connect)` for `socketcall` with a0 = 3; the name unchanged for other
    /// syscalls, or a subcall number nothing names.
    public static func name(_ syscall: String, firstArgument a0: UInt64?) -> String {
        guard let a0 else { return syscall }
        switch syscall {
        case "socketcall":
            guard a0 >= 1, a0 <= UInt64(socketcalls.count) else { return syscall }
            return "socketcall(\(socketcalls[Int(a0) - 1]))"
        case "ipc":
            guard let call = ipcCalls[a0 & 0xffff] else { return syscall }
            return "ipc(\(call))"
        default:
            return syscall
        }
    }
}
