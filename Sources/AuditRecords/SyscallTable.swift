import CAudit

/// Names for the numbers in a SYSCALL record: architecture, syscall, errno.
///
/// Built once from libaudit's tables, so nodeaudit names syscalls exactly as
/// `ausearch -i` does on the same host, for every architecture libaudit knows.
public final class SyscallTable: Sendable {
    public static let shared = SyscallTable()

    /// Syscall numbers above this are not looked up (no architecture has that many).
    private static let syscallLimit = 1024
    private static let errnoLimit = 256
    private static let machineLimit: Int32 = 32

    /// Index: libaudit machine id; value: syscall names by number.
    private let syscallNames: [[String?]]
    private let machineNames: [String?]
    private let errnoNames: [String?]

    private init() {
        var machines: [[String?]] = []
        var machineNames: [String?] = []
        // libaudit's machine ids have holes where architectures were retired (ia64, alpha).
        for machine in 0..<Self.machineLimit {
            guard let cName = audit_machine_to_name(machine) else {
                machineNames.append(nil)
                machines.append([])
                continue
            }
            machineNames.append(String(cString: cName))
            var names = [String?](repeating: nil, count: Self.syscallLimit)
            for number in 0..<Self.syscallLimit {
                if let n = audit_syscall_to_name(Int32(number), machine) { names[number] = String(cString: n) }
            }
            machines.append(names)
        }
        self.syscallNames = machines
        self.machineNames = machineNames
        self.errnoNames = (0..<Self.errnoLimit).map { n in audit_errno_to_name(Int32(n)).map { String(cString: $0) } }
    }

    /// libaudit's machine id for an `arch=` value (an ELF AUDIT_ARCH_* constant).
    public func machine(forArch arch: UInt64) -> Int32? {
        guard let elf = UInt32(exactly: arch) else { return nil }
        let machine = audit_elf_to_machine(elf)
        return machine >= 0 && Int(machine) < machineNames.count ? machine : nil
    }

    /// The architecture's name (`x86_64`, `i386`, `aarch64`), as auditd prints it.
    public func architectureName(arch: UInt64) -> String? {
        machine(forArch: arch).flatMap { machineNames[Int($0)] }
    }

    /// The syscall's name on that architecture (`execve`, `connect`).
    public func syscallName(_ number: UInt64, arch: UInt64) -> String? {
        guard let machine = machine(forArch: arch), number < UInt64(Self.syscallLimit) else { return nil }
        let names = syscallNames[Int(machine)]
        return names.isEmpty ? nil : names[Int(number)]
    }

    /// The symbolic name of an errno value (`ENOENT` for 2).
    public func errnoName(_ errno: Int64) -> String? {
        guard errno > 0, errno < Int64(Self.errnoLimit) else { return nil }
        return errnoNames[Int(errno)]
    }
}
