import AuditEvents

/// What nodeaudit knows of the node's processes, so that an event of a process that has
/// already exited (most execs in a burst) is still attributed: from what was seen of it,
/// or from its parent, since a forked child starts in its parent's cgroup.
///
/// Entries are keyed by pid and carry the process's start time, so a reused pid is never
/// taken for the process that had it before.
package struct ProcessTable: Sendable {
    package struct Entry: Sendable, Equatable {
        package var pid: UInt32
        package var ppid: UInt32?
        /// Start time in clock ticks since boot (`/proc/PID/stat` field 22); nil when the
        /// process was only seen in events.
        package var startTicks: UInt64?
        package var workload: Workload?
        /// The exec session into a container this process belongs to, once known.
        package var execSession: ExecSession?
        /// The executable its exec event named (the kernel's `exe`), once seen.
        package var exe: [UInt8]?
        /// When the entry was last confirmed (milliseconds, the caller's clock).
        package var confirmedAt: UInt64
        /// Set when the process was found gone; it is forgotten `goneRetention` later.
        package var goneSince: UInt64?

        package init(pid: UInt32, ppid: UInt32?, startTicks: UInt64?, workload: Workload?, confirmedAt: UInt64) {
            self.pid = pid
            self.ppid = ppid
            self.startTicks = startTicks
            self.workload = workload
            self.confirmedAt = confirmedAt
        }
    }

    package private(set) var entries: [UInt32: Entry] = [:]
    /// How long an exited process is remembered for its late events and its children's.
    package let goneRetentionMilliseconds: UInt64
    /// The most entries kept; past it, the oldest exited ones go first. 40,000 by default:
    /// a node's running processes (a few thousand) and a minute of exited ones at 500 new
    /// processes a second, in about 12 MB (300 bytes an entry with its hash table), so
    /// that a node whose `pid_max` is 4,194,304 stays within nodeaudit's 50 MB.
    package let capacity: Int

    package init(goneRetentionMilliseconds: UInt64 = 60_000, capacity: Int = 40_000) {
        self.goneRetentionMilliseconds = goneRetentionMilliseconds
        self.capacity = capacity
    }

    package subscript(pid: UInt32) -> Entry? { entries[pid] }
    package var count: Int { entries.count }

    /// Records what is known of a process now; a different start time replaces the entry
    /// of a previous holder of the pid.
    package mutating func remember(_ entry: Entry) {
        var entry = entry
        if let old = entries[entry.pid], old.startTicks == entry.startTicks || entry.startTicks == nil || old.startTicks == nil {
            entry.ppid = entry.ppid ?? old.ppid
            entry.startTicks = entry.startTicks ?? old.startTicks
            entry.workload = entry.workload ?? old.workload
            entry.execSession = entry.execSession ?? old.execSession
            entry.exe = entry.exe ?? old.exe
        }
        entries[entry.pid] = entry
        if entries.count > capacity { shrink() }
    }

    /// Records a process known to be new (a runtime just started it): nothing of an
    /// earlier holder of the pid is kept.
    package mutating func replace(_ entry: Entry) {
        entries[entry.pid] = entry
        if entries.count > capacity { shrink() }
    }

    package mutating func setExecSession(_ session: ExecSession, for pid: UInt32) {
        entries[pid]?.execSession = session
    }

    package mutating func setExe(_ exe: [UInt8], for pid: UInt32) {
        entries[pid]?.exe = exe
    }

    package mutating func markGone(_ pid: UInt32, at now: UInt64) {
        if entries[pid]?.goneSince == nil { entries[pid]?.goneSince = now }
    }

    /// Forgets exited processes older than the retention, in place: a filtered copy of
    /// the table would hold it twice for a moment, every sweep.
    package mutating func forgetExited(now: UInt64) {
        let expired = entries.compactMap { pid, entry in
            entry.goneSince.flatMap { now - $0 > goneRetentionMilliseconds ? pid : nil }
        }
        for pid in expired { entries[pid] = nil }
    }

    /// Down to nine tenths of the capacity: exited processes first, longest gone first,
    /// then the least recently confirmed. It sorts pids and times, never copies of the
    /// entries, which at the capacity would hold the table's size again for a moment.
    private mutating func shrink() {
        let target = capacity * 9 / 10
        var exited = entries.compactMap { pid, entry in entry.goneSince.map { (time: $0, pid: pid) } }
        exited.sort { $0.time < $1.time }
        for item in exited.prefix(entries.count - target) { entries[item.pid] = nil }
        guard entries.count > capacity else { return }
        var oldest = entries.map { (time: $0.value.confirmedAt, pid: $0.key) }
        oldest.sort { $0.time < $1.time }
        for item in oldest.prefix(entries.count - target) { entries[item.pid] = nil }
    }
}
