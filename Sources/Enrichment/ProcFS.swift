import AuditEvents
import HostIO
import AuditRecords
#if canImport(Glibc)
import Glibc
#endif

/// The few things nodeaudit reads of a live process under `/proc`: parent, start time and
/// cgroup. A process that is gone gives nil; nothing here throws.
package struct ProcFS: Sendable {
    package struct Stat: Sendable, Equatable {
        package var ppid: UInt32
        /// Field 22: clock ticks since boot when the process started.
        package var startTicks: UInt64
        /// Exiting or a zombie (state Z or X, or the kernel's PF_EXITING flag). Such a
        /// process reads as the root cgroup on every v1 hierarchy, so its cgroup file no
        /// longer says where it ran.
        package var isExiting: Bool

        package init(ppid: UInt32, startTicks: UInt64, isExiting: Bool = false) {
            self.ppid = ppid
            self.startTicks = startTicks
            self.isExiting = isExiting
        }
    }

    /// The kernel's PF_EXITING task flag (field 9 of stat).
    static let exitingFlag: UInt64 = 0x4

    package let root: String
    /// Milliseconds per clock tick (`_SC_CLK_TCK`, 100 Hz on Linux: 10 ms).
    package let millisecondsPerTick: UInt64

    package init(root: String = "/proc") {
        self.root = root
        let ticks = sysconf(Int32(_SC_CLK_TCK))
        millisecondsPerTick = ticks > 0 ? UInt64(1000 / ticks) : 10
    }

    package func stat(_ pid: UInt32) -> Stat? {
        guard let text = try? HostFile.read("\(root)/\(pid)/stat", limit: 4096) else { return nil }
        return Self.parseStat(text[...])
    }

    package func cgroup(_ pid: UInt32) -> [UInt8]? {
        try? HostFile.read("\(root)/\(pid)/cgroup", limit: 64 * 1024)
    }

    /// The process's pid in its own (innermost) pid namespace, from the `NSpid:` line of
    /// `/proc/PID/status`: 1 for a container's first process.
    package func namespacePID(_ pid: UInt32) -> UInt32? {
        guard let text = try? HostFile.read("\(root)/\(pid)/status", limit: 8192) else { return nil }
        return Self.innermostNamespacePID(text[...])
    }

    package static func innermostNamespacePID(_ status: Bytes) -> UInt32? {
        for line in status.split(separator: UInt8(ascii: "\n")) where line.starts(with: "NSpid:".utf8) {
            let numbers = line.dropFirst(6).split { $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: " ") }
            return numbers.last.flatMap(ByteNumbers.decimal).flatMap { UInt32(exactly: $0) }
        }
        return nil
    }

    /// `pid (comm) state ppid … starttime …`: comm may hold spaces and parentheses, so the
    /// fields are counted from the last `)`.
    package static func parseStat(_ text: Bytes) -> Stat? {
        guard let close = text.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = text[(close + 1)...].split(separator: UInt8(ascii: " "))
        // fields[0] is the state (field 3); ppid is field 4, flags field 9, starttime field 22.
        guard fields.count > 19, let ppid = ByteNumbers.decimal(fields[1]), let flags = ByteNumbers.decimal(fields[6]),
              let start = ByteNumbers.decimal(fields[19]), let ppid32 = UInt32(exactly: ppid) else { return nil }
        let state = fields[0].first
        let exiting = state == UInt8(ascii: "Z") || state == UInt8(ascii: "X") || flags & exitingFlag != 0
        return Stat(ppid: ppid32, startTicks: start, isExiting: exiting)
    }

    /// The executable, name and arguments of a live process (its `exe` link, `comm` and
    /// `cmdline`); nil when it is gone or a kernel thread.
    package func program(_ pid: UInt32) -> (exe: [UInt8], comm: [UInt8]?, argv: [[UInt8]])? {
        guard let exe = HostFile.linkTarget("\(root)/\(pid)/exe") else { return nil }
        let comm = (try? HostFile.read("\(root)/\(pid)/comm", limit: 64)).map { Array($0.prefix { $0 != UInt8(ascii: "\n") }) }
        let cmdline = (try? HostFile.read("\(root)/\(pid)/cmdline", limit: 4096)) ?? []
        return (exe, comm, cmdline.split(separator: 0, omittingEmptySubsequences: false).dropLast().map(Array.init))
    }

    /// Whether the process now at `pid` started before `epochMilliseconds`, by more than the
    /// two clock ticks its start time may be off: then nothing that happened at that
    /// moment started it. False when it is gone.
    package func startedBefore(_ pid: UInt32, epochMilliseconds: UInt64) -> Bool {
        guard let stat = stat(pid) else { return false }
        let boot = Int64(epochMilliseconds) - Self.bootOffsetMilliseconds()
        return Int64((stat.startTicks + 2) * millisecondsPerTick) < boot
    }

    /// Tells `lineage` of every process running now, so that the first events' ancestry
    /// reaches the processes that started before nodeaudit.
    package func seed(_ lineage: ProcessLineage) {
        for pid in pids() {
            guard let stat = stat(pid) else { continue }
            let program = program(pid)
            lineage.remember(pid: pid, ppid: stat.ppid, exe: program?.exe, comm: program?.comm, argv: program?.argv)
        }
    }

    /// The pids of every process now.
    package func pids() -> [UInt32] {
        HostDirectory.entries(root).compactMap { UInt32($0) }
    }

    /// Milliseconds to subtract from a wall-clock time to get time since boot, as process
    /// start times count it.
    package static func bootOffsetMilliseconds() -> Int64 {
        var real = timespec()
        var boot = timespec()
        clock_gettime(CLOCK_REALTIME, &real)
        clock_gettime(CLOCK_BOOTTIME, &boot)
        return (Int64(real.tv_sec) - Int64(boot.tv_sec)) * 1000 + (Int64(real.tv_nsec) - Int64(boot.tv_nsec)) / 1_000_000
    }
}
