import AuditRecords

/// Who started a process, as far as the stream showed: its parent (executable, name,
/// arguments, the exec event that made it) and the chain of ancestors above it. A
/// process's own event says only `ppid`, and by the time anyone looks the parent has
/// often exited (`sh -c 'cmd &'`, cron jobs, container probes).
public struct Lineage: Sendable, Equatable {
    /// What was seen of one ancestor.
    public struct Ancestor: Sendable, Equatable {
        public var pid: UInt32
        public var exe: [UInt8]?
        public var comm: [UInt8]?
        /// Its arguments when its exec was seen, bounded (`ProcessLineage.argvByteLimit`).
        public var argv: [[UInt8]]?
        /// The stamp of its exec event (time and serial: the event's id on the same node),
        /// when nodeaudit saw it.
        public var exec: AuditStamp?
    }

    /// The parent, as full as it was seen.
    public var parent: Ancestor
    /// Above the parent, nearest first; each ends with what is known (pid and exe).
    public var ancestors: [Ancestor]
}

/// The node's process tree as the audit stream shows it, for `Lineage`: every process
/// event records its process (an exec replaces what was known of it), and each event's
/// ancestry is read back along the `ppid` links.
///
/// For a process in a container the chain ends at the container's first process: the
/// first ancestor not seen in that container (the runtime's shim, on the host) ends it.
///
/// A process whose parent exited before its first event (`sh -c 'cmd & exit 0'`) is
/// reported by the kernel under its new parent (init or a subreaper). When the stream
/// shows the fork itself (rules on clone, clone3, fork, vfork), the process that forked
/// it stays its parent.
///
/// Memory is bounded: at most `capacity` processes, the least recently seen forgotten
/// first and counted in `evicted`. A pid seen again with another parent is taken for a
/// new process.
public struct ProcessLineage: Sendable {
    private struct Entry {
        var ancestor: Lineage.Ancestor
        var ppid: UInt32?
        var lastSeen: UInt64
        /// The container its events were attributed to; nil for the host or not known.
        var containerID: String?
        /// The process whose fork the stream showed made this one.
        var forkedBy: UInt32?
        /// The stamp of the latest event of the process itself.
        var lastEvent: AuditStamp?

        /// What `event`, one of the process's own, says of it; an exec replaces its
        /// executable, name and arguments.
        mutating func update(from event: AuditEvent, ppid: UInt32?, at clock: UInt64, argvByteLimit: Int) {
            if let ppid { self.ppid = ppid }
            lastSeen = clock
            lastEvent = event.key.stamp
            if let container = event.workload?.container { containerID = container.id }
            let exec = event.exec
            if exec != nil || ancestor.exe == nil {
                ancestor.exe = event.bytes(event.process?.exe).map(Array.init)
                ancestor.comm = event.bytes(event.process?.comm).map(Array.init)
            }
            if let exec {
                var budget = argvByteLimit
                ancestor.argv = exec.argv.prefix { range in
                    budget -= range.count
                    return budget >= 0
                }.map { Array(event.text[$0]) }
                ancestor.exec = event.key.stamp
            }
        }
    }

    /// The syscalls that make a process, whose exit value is the new pid.
    static let forks: Set<String> = ["clone", "clone3", "fork", "vfork"]

    /// How many ancestors above the parent an event lists.
    public let depth: Int
    public let capacity: Int
    /// The most argument bytes kept per process.
    public let argvByteLimit: Int
    private var entries: [UInt32: Entry] = [:]
    private var clock: UInt64 = 0
    public private(set) var evicted: UInt64 = 0

    public init(depth: Int, capacity: Int, argvByteLimit: Int = 4096) {
        self.depth = depth
        self.capacity = max(2, capacity)
        self.argvByteLimit = argvByteLimit
    }

    public var count: Int { entries.count }

    /// Sets `event.lineage` from what is known of its process's parent and ancestors,
    /// then records the event's process.
    public mutating func trace(_ event: inout AuditEvent) {
        guard let pid = event.process?.pid else { return }
        var ppid = event.process?.ppid
        // One lookup each for the process and its parent: this runs for every event.
        let own = entries[pid]
        // Re-parented since the fork the stream showed: the forker is the parent.
        if let forker = own?.forkedBy { ppid = forker }
        clock += 1
        if let ppid, ppid != 0 {
            let parentEntry = entries[ppid]
            var parent = parentEntry?.ancestor ?? Lineage.Ancestor(pid: ppid)
            parent.pid = ppid
            var ancestors: [Lineage.Ancestor] = []
            let container = event.workload?.container?.id
            var next = container != nil && parentEntry?.containerID != container ? nil : parentEntry?.ppid
            // A loop in the links (reused pids) ends the chain where a pid comes again.
            while ancestors.count < depth, let ancestorPID = next, ancestorPID != 0, ancestorPID != pid, ancestorPID != ppid,
                  !ancestors.contains(where: { $0.pid == ancestorPID }) {
                let entry = entries[ancestorPID]
                if let container, entry?.containerID != container { break }
                ancestors.append(Lineage.Ancestor(pid: ancestorPID, exe: entry?.ancestor.exe))
                next = entry?.ppid
            }
            event.lineage = Lineage(parent: parent, ancestors: ancestors)
        }
        record(event, pid: pid, ppid: ppid, known: own)
        if let syscall = event.syscall, syscall.success == true, let child = syscall.exit, child > 0, child <= Int64(UInt32.max),
           let name = syscall.name, Self.forks.contains(name) {
            recordFork(child: UInt32(child), parent: pid, at: event.key.stamp)
        }
    }

    /// A fork the stream showed: the child starts as a copy of its parent, and keeps it as
    /// its parent whoever adopts it later. The fork's event can come after the child's
    /// own exec (the parent's clone returns later than the child runs): a child that
    /// exec'd after the fork began keeps what its exec said. Otherwise the pid is taken
    /// for a new process.
    private mutating func recordFork(child: UInt32, parent: UInt32, at forkStamp: AuditStamp) {
        guard let forker = entries[parent] else { return }
        if var existing = entries[child], let seen = existing.lastEvent,
           (seen.seconds, seen.milliseconds) >= (forkStamp.seconds, forkStamp.milliseconds) {
            existing.ppid = parent
            existing.forkedBy = parent
            entries[child] = existing
            return
        }
        if entries[child] == nil, entries.count >= capacity { evictLeastRecentlySeen() }
        var ancestor = forker.ancestor
        ancestor.pid = child
        ancestor.exec = nil
        entries[child] = Entry(ancestor: ancestor, ppid: parent, lastSeen: clock, containerID: forker.containerID, forkedBy: parent)
    }

    /// Records a process found some other way than its events (`/proc` at start).
    public mutating func remember(pid: UInt32, ppid: UInt32, exe: [UInt8]?, comm: [UInt8]?, argv: [[UInt8]]?) {
        clock += 1
        var budget = argvByteLimit
        let ancestor = Lineage.Ancestor(pid: pid, exe: exe, comm: comm, argv: argv?.prefix { argument in
            budget -= argument.count
            return budget >= 0
        })
        if entries[pid] == nil, entries.count >= capacity { evictLeastRecentlySeen() }
        entries[pid] = Entry(ancestor: ancestor, ppid: ppid, lastSeen: clock)
    }

    /// `known`: what `entries` held for `pid` before this event. The entry is updated in
    /// place (one hash lookup, no copy of its arrays): this runs for every event.
    private mutating func record(_ event: AuditEvent, pid: UInt32, ppid: UInt32?, known: Entry?) {
        if let known, ppid == nil || known.ppid == nil || known.ppid == ppid {
            // The same process as before.
        } else {
            if known == nil, entries.count >= capacity { evictLeastRecentlySeen() }
            entries[pid] = Entry(ancestor: Lineage.Ancestor(pid: pid), ppid: ppid, lastSeen: clock)
        }
        entries[pid]!.update(from: event, ppid: ppid, at: clock, argvByteLimit: argvByteLimit)
    }

    /// Forgets the least recently seen eighth, so that eviction is rare and its cost
    /// spread over many events.
    private mutating func evictLeastRecentlySeen() {
        let count = max(1, entries.count / 8)
        let cutoff = entries.values.map(\.lastSeen).sorted()[count - 1]
        for (pid, entry) in entries where entry.lastSeen <= cutoff {
            entries[pid] = nil
            evicted += 1
        }
    }
}

extension Lineage.Ancestor {
    init(pid: UInt32, exe: [UInt8]? = nil) {
        self.pid = pid
        self.exe = exe
    }
}
