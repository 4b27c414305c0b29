import AuditRecords
import HostIO

/// Who started a process, as far as the stream showed: its parent (executable, name,
/// arguments, the exec event that made it) and the chain of ancestors above it. A
/// process's own event says only `ppid`, and by the time anyone looks the parent has
/// often exited (`sh -c 'cmd &'`, cron jobs, container probes).
public struct Lineage: Sendable, Equatable {
    /// What was seen of one ancestor.
    public struct Ancestor: Sendable, Equatable {
        public var pid: UInt32
        public var program: Program
        /// The stamp of its exec event (time and serial: the event's id on the same node),
        /// when nodeaudit saw it.
        public var exec: AuditStamp?

        public init(pid: UInt32, program: Program = Program(), exec: AuditStamp? = nil) {
            self.pid = pid
            self.program = program
            self.exec = exec
        }
    }

    /// The executable, name and arguments of one process, packed in one buffer: an exec
    /// is remembered with one allocation, and every event that names the process as an
    /// ancestor copies one reference (this runs for every event).
    public struct Program: Sendable, Equatable {
        /// The executable, then the name, then each argument after its length (four
        /// bytes, little-endian): lengths rather than separators, since a log's hex
        /// values may decode to any byte.
        private var storage: [UInt8] = []
        /// -1 when not known.
        private var exeLength: Int32 = -1
        private var commLength: Int32 = -1
        private var argumentsKnown = false

        /// The longest executable or name kept: the kernel's PATH_MAX. Only a crafted log
        /// has longer ones, and the table must not keep them for every process.
        public static let nameByteLimit = 4096

        public init() {}

        /// Keeps the leading arguments whose bytes add up to at most `argvByteLimit`, and
        /// at most `nameByteLimit` bytes of the executable and of the name.
        public init<Exe: Collection<UInt8>, Comm: Collection<UInt8>, Argument: Collection<UInt8>>(
            exe: Exe?, comm: Comm?, argv: (some Sequence<Argument>)?, argvByteLimit: Int
        ) {
            let exe = exe?.prefix(Self.nameByteLimit)
            let comm = comm?.prefix(Self.nameByteLimit)
            // Two passes over the arguments, so that the buffer is allocated once.
            var kept = 0
            var argumentBytes = 0
            if let argv {
                for argument in argv {
                    guard argumentBytes + argument.count <= argvByteLimit else { break }
                    argumentBytes += argument.count
                    kept += 1
                }
            }
            storage.reserveCapacity((exe?.count ?? 0) + (comm?.count ?? 0) + argumentBytes + 4 * kept)
            if let exe {
                storage.append(contentsOf: exe)
                exeLength = Int32(exe.count)
            }
            if let comm {
                storage.append(contentsOf: comm)
                commLength = Int32(comm.count)
            }
            guard let argv else { return }
            argumentsKnown = true
            for argument in argv.prefix(kept) {
                withUnsafeBytes(of: UInt32(argument.count).littleEndian) { storage.append(contentsOf: $0) }
                storage.append(contentsOf: argument)
            }
        }

        public var exe: Bytes? { exeLength < 0 ? nil : storage[..<Int(exeLength)] }

        public var comm: Bytes? {
            guard commLength >= 0 else { return nil }
            let start = Int(max(exeLength, 0))
            return storage[start..<start + Int(commLength)]
        }

        /// The arguments, when an exec (or `/proc`) showed them.
        public var arguments: Arguments? {
            argumentsKnown ? Arguments(storage: storage[(Int(max(exeLength, 0)) + Int(max(commLength, 0)))...]) : nil
        }

        /// The packed arguments, read one by one.
        public struct Arguments: Sequence, IteratorProtocol {
            fileprivate var storage: Bytes

            public mutating func next() -> Bytes? {
                guard storage.count >= 4 else { return nil }
                let start = storage.startIndex
                let length = Int(storage[start]) | Int(storage[start + 1]) << 8 | Int(storage[start + 2]) << 16 | Int(storage[start + 3]) << 24
                let argument = storage[(start + 4)..<(start + 4 + length)]
                storage = storage[argument.endIndex...]
                return argument
            }
        }
    }

    /// The parent, as full as it was seen.
    public var parent: Ancestor
    /// Above the parent, nearest first; for each, what is known (pid and exe are written).
    public var ancestors: [Ancestor]
    /// The stamp of the exec that started the event's process's program, when the
    /// stream showed it before this event: with the pid, what tells this process from
    /// another that had the pid (ECS `process.entity_id`, `process.start`).
    public var processExec: AuditStamp?

    public init(parent: Ancestor, ancestors: [Ancestor], processExec: AuditStamp? = nil) {
        self.parent = parent
        self.ancestors = ancestors
        self.processExec = processExec
    }
}

/// The node's process tree as the audit stream shows it, for `Lineage`: every process
/// event records its process (an exec replaces what was known of it), and each event's
/// ancestry is read back along the `ppid` links.
///
/// For a process in a container the chain ends at the container's first process: the
/// first ancestor not seen in that container (the runtime's shim, on the host) ends it,
/// and a process counts as in the container only once it exec'd there (the runtime's
/// setup stages exec and fork inside the container's cgroup).
///
/// A process whose parent exited before its first event (`sh -c 'cmd & exit 0'`) is
/// reported by the kernel under its new parent (init or a subreaper). When the stream
/// shows the fork itself (rules on clone, clone3, fork, vfork), the process that forked
/// it stays its parent.
///
/// Memory is bounded: at most `capacity` processes, forgotten in bulk and counted in
/// `evicted`. Those that no remembered process names as parent go first, least recently
/// seen first: a quiet long-lived ancestor (a login shell, a container's first process,
/// a build's driver) outlives the short-lived children that fill the table. A pid seen
/// again with another parent is taken for a new process.
///
/// A class, each process a node of its own: an event reads its parent and up to `depth`
/// ancestors, and a lookup that copied a process out of the table would cost more than
/// the rest of the work. Used by one thread at a time (the renderer's).
public final class ProcessLineage: @unchecked Sendable {
    private final class Process {
        var ancestor: Lineage.Ancestor
        /// Set through `ProcessLineage.link`, which keeps `children` right.
        var ppid: UInt32?
        /// How many remembered processes name this one as parent.
        var children: Int32 = 0
        var lastSeen: UInt64
        /// The container its events were attributed to; nil for the host or not known.
        var containerID: String?
        /// The process whose fork the stream showed made this one.
        var forkedBy: UInt32?
        /// The stamp of the latest event of the process itself.
        var lastEvent: AuditStamp?

        /// Whether an event of its pid with parent `ppid` is this process's: a pid seen
        /// again under another parent is a new process.
        func continues(under ppid: UInt32?) -> Bool { ppid == nil || self.ppid == nil || self.ppid == ppid }

        init(ancestor: Lineage.Ancestor, lastSeen: UInt64, containerID: String? = nil, forkedBy: UInt32? = nil) {
            self.ancestor = ancestor
            self.lastSeen = lastSeen
            self.containerID = containerID
            self.forkedBy = forkedBy
        }

        /// What `event`, one of the process's own, says of it; an exec replaces its
        /// executable, name and arguments.
        func update(from event: AuditEvent, at clock: UInt64, argvByteLimit: Int) {
            lastSeen = clock
            lastEvent = event.key.stamp
            // Where a process is, is where its last exec was. The runtime's own stages
            // (runc init, and the copies it forks) enter the container's cgroup at moments
            // of their own, so however their events are attributed they are in no
            // container here: the container's first process is the one that exec'd there.
            // Only a process whose exec and fork the stream never showed is placed by its
            // other events (the fork event may come after the child's first events).
            if event.isRuntimeProcess {
                containerID = nil
            } else if event.exec != nil {
                containerID = event.workload?.container?.id
            } else if let container = event.workload?.container, forkedBy == nil, ancestor.exec == nil {
                containerID = container.id
            }
            guard event.exec != nil || ancestor.program.exe == nil else { return }
            let text = event.text
            let exe = event.process?.exe.map { text[$0] }
            let comm = event.process?.comm.map { text[$0] }
            if let exec = event.exec {
                ancestor.program = Lineage.Program(exe: exe, comm: comm, argv: exec.argv.lazy.map { text[$0] }, argvByteLimit: argvByteLimit)
                ancestor.exec = event.key.stamp
            } else {
                // Nothing was known of the program, but its arguments may have been.
                ancestor.program = Lineage.Program(exe: exe, comm: comm, argv: ancestor.program.arguments, argvByteLimit: argvByteLimit)
            }
        }
    }

    /// How many ancestors above the parent an event lists.
    public let depth: Int
    public let capacity: Int
    /// The most argument bytes kept per process.
    public let argvByteLimit: Int
    // One thread uses the table (the type's contract): the runtime's exclusivity checks
    // on every access would cost more than the lookups they guard.
    @exclusivity(unchecked) private var processes: [UInt32: Process] = [:]
    @exclusivity(unchecked) private var clock: UInt64 = 0
    public private(set) var evicted: UInt64 = 0
    /// On the node the stream comes from (nil for a log from elsewhere): whether the
    /// process now at a pid started before a moment (milliseconds since the epoch). A fork
    /// at that moment did not make it, whatever pid the fork returned: the forker was in a
    /// pid namespace of its own outside any container (`unshare --pid`), where any local
    /// user may choose the pids its forks return, and aim one at a process of the node.
    public var startedBefore: (@Sendable (UInt32, UInt64) -> Bool)?
    /// The renderer's thread, once it traces (debug builds check it; seeding from /proc
    /// comes before, on the thread that builds the pipeline).
    @exclusivity(unchecked) private var owner = ThreadOwner("ProcessLineage")

    public init(depth: Int, capacity: Int, argvByteLimit: Int = 4096) {
        self.depth = depth
        self.capacity = max(2, capacity)
        self.argvByteLimit = argvByteLimit
    }

    public var count: Int { processes.count }

    /// Sets `event.lineage` from what is known of its process's parent and ancestors,
    /// then records the event's process.
    public func trace(_ event: inout AuditEvent) {
        owner.check()
        guard let pid = event.process?.pid else { return }
        var ppid = event.process?.ppid
        let own = processes[pid]
        // Re-parented since the fork the stream showed: the forker is the parent.
        if let forker = own?.forkedBy { ppid = forker }
        clock += 1
        if let ppid, ppid != 0 {
            let parentProcess = processes[ppid]
            var parent = parentProcess?.ancestor ?? Lineage.Ancestor(pid: ppid)
            parent.pid = ppid
            var ancestors: [Lineage.Ancestor] = []
            let container = event.workload?.container?.id
            var next = container != nil && parentProcess?.containerID != container ? nil : parentProcess?.ppid
            // A loop in the links (reused pids) ends the chain where a pid comes again.
            while ancestors.count < depth, let ancestorPID = next, ancestorPID != 0, ancestorPID != pid, ancestorPID != ppid,
                  !ancestors.contains(where: { $0.pid == ancestorPID }) {
                let process = processes[ancestorPID]
                if let container, process?.containerID != container { break }
                if ancestors.isEmpty { ancestors.reserveCapacity(min(depth, 16)) }
                ancestors.append(Lineage.Ancestor(pid: ancestorPID, program: process?.ancestor.program ?? Lineage.Program()))
                next = process?.ppid
            }
            let sameProcess = own?.continues(under: ppid) ?? false
            event.lineage = Lineage(parent: parent, ancestors: ancestors, processExec: sameProcess ? own?.ancestor.exec : nil)
        }
        let process = record(event, pid: pid, ppid: ppid, known: own)
        if let child = event.syscall?.createdProcess, Self.namesNodePIDs(event, process) {
            recordFork(child: child, parent: pid, at: event.key.stamp)
        }
    }

    /// Whether the pids a process's fork returns are the node's. A fork returns the child's
    /// pid in the forker's own pid namespace: in a container that is a small number that
    /// names some other process of the node (containerd, kubelet, a shim), and taking it
    /// for the child would rewrite that process's place in the tree. The runtime's own
    /// stages fork on the node's side, whatever cgroup they were read in. A process in a
    /// container keeps the parent its events report.
    private static func namesNodePIDs(_ event: AuditEvent, _ process: Process) -> Bool {
        process.containerID == nil && (event.isRuntimeProcess || event.workload?.container == nil)
    }

    /// A fork the stream showed: the child starts as a copy of its parent, and keeps it as
    /// its parent whoever adopts it later. The fork's event can come after the child's
    /// own exec (the parent's clone returns later than the child runs): a child that
    /// exec'd after the fork began keeps what its exec said. Otherwise the pid is taken
    /// for a new process, unless the process the node now has there started before the
    /// fork (`startedBefore`).
    private func recordFork(child: UInt32, parent: UInt32, at forkStamp: AuditStamp) {
        guard let forker = processes[parent] else { return }
        let existing = processes[child]
        if existing != nil, startedBefore?(child, forkStamp.epochMilliseconds) == true { return }
        if let existing, let seen = existing.lastEvent,
           (seen.seconds, seen.milliseconds) >= (forkStamp.seconds, forkStamp.milliseconds) {
            link(existing, to: parent)
            existing.forkedBy = parent
            return
        }
        var ancestor = forker.ancestor
        ancestor.pid = child
        ancestor.exec = nil
        let process = Process(ancestor: ancestor, lastSeen: clock, containerID: forker.containerID, forkedBy: parent)
        insert(process, pid: child)
        link(process, to: parent)
    }

    /// Records a process found some other way than its events (`/proc` at start).
    public func remember(pid: UInt32, ppid: UInt32, exe: [UInt8]?, comm: [UInt8]?, argv: [[UInt8]]?) {
        clock += 1
        let program = Lineage.Program(exe: exe, comm: comm, argv: argv, argvByteLimit: argvByteLimit)
        let process = Process(ancestor: Lineage.Ancestor(pid: pid, program: program), lastSeen: clock)
        insert(process, pid: pid)
        link(process, to: ppid)
    }

    /// `known`: what the table held for `pid` before this event.
    private func record(_ event: AuditEvent, pid: UInt32, ppid: UInt32?, known: Process?) -> Process {
        let process: Process
        if let known, known.continues(under: ppid) {
            process = known
        } else {
            process = Process(ancestor: Lineage.Ancestor(pid: pid), lastSeen: clock)
            insert(process, pid: pid)
        }
        if let ppid, process.ppid != ppid { link(process, to: ppid) }
        process.update(from: event, at: clock, argvByteLimit: argvByteLimit)
        return process
    }

    /// Makes `ppid` the parent of `process`, moving it from its former parent's children
    /// to the new one's.
    private func link(_ process: Process, to ppid: UInt32) {
        guard process.ppid != ppid else { return }
        unlink(process)
        process.ppid = ppid
        if let parent = processes[ppid] { parent.children += 1 }
    }

    /// Takes `process` out of its parent's children (it is forgotten or re-parented). A
    /// parent remembered after its child never counted it: counts do not go below zero.
    private func unlink(_ process: Process) {
        guard let ppid = process.ppid, let parent = processes[ppid], parent.children > 0 else { return }
        parent.children -= 1
    }

    /// Puts `process` in the table in place of what `pid` was, first making room when
    /// `pid` is new and the table full.
    private func insert(_ process: Process, pid: UInt32) {
        if let replaced = processes[pid] {
            unlink(replaced)
        } else if processes.count >= capacity {
            evict()
        }
        processes[pid] = process
    }

    /// Forgets an eighth of the table, so that eviction is rare and its cost spread over
    /// many events: the least recently seen of the processes no other names as parent, or
    /// of all processes when too few are such leaves (a table of long chains).
    private func evict() {
        let count = max(1, processes.count / 8)
        let leaves = processes.values.filter { $0.children == 0 }.map(\.lastSeen)
        let leavesOnly = leaves.count >= count
        let cutoff = (leavesOnly ? leaves : processes.values.map(\.lastSeen)).sorted()[count - 1]
        for (pid, process) in processes where process.lastSeen <= cutoff && (!leavesOnly || process.children == 0) {
            unlink(process)
            processes[pid] = nil
            evicted += 1
        }
    }
}
