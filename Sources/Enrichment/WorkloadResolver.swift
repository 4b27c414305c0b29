import HostIO
import Attribution
import AuditEvents
import AuditRecords
#if canImport(Glibc)
import Glibc
#endif

/// Attributes each event's process to its container, pod or the host.
///
/// A live process is read from /proc (its cgroup), once per process and again on each
/// exec. A process that is gone — most execs of a burst are by the time their event is
/// handled — is attributed from the `ProcessTable`: from what was seen of it, else from
/// its parent, whose cgroup a forked child starts in. Start times guard against reused
/// pids: a process that started after the event cannot have caused it.
package final class WorkloadResolver: EventEnricher {
    private let proc: ProcFS
    private let kubernetes: KubernetesLogDirectories?
    /// The CRI runtime of this node, for pod containers whose cgroup path does not say.
    private let podRuntime: String?
    package private(set) var table = ProcessTable()
    /// A live entry confirmed this recently is used without reading /proc again.
    private let confirmIntervalMilliseconds: UInt64 = 1000
    private let sweepIntervalMilliseconds: UInt64 = 5000
    private var sweptAt: UInt64 = 0

    /// The container runtime's launches in the stream: who started a process that was gone
    /// before its `/proc` entry could be read. Nil for logs read offline from another time.
    private let launches: RuntimeLaunchTracker?

    /// `runtimes`: the runtime programs whose command lines are believed, and where their
    /// files are (nil: attribute from `/proc` and parents alone).
    package init(proc: ProcFS = ProcFS(), kubernetes: KubernetesLogDirectories?, podRuntime: String? = ContainerRuntimeSockets.detect(),
                runtimes: (programs: RuntimePrograms, files: RuntimeFiles)? = nil) {
        self.proc = proc
        self.kubernetes = kubernetes
        self.podRuntime = podRuntime
        launches = runtimes.map { RuntimeLaunchTracker(programs: $0.programs, files: $0.files, procRoot: proc.root) }
    }

    /// Reads every process now alive, so the parents of short-lived processes are known
    /// before their children's events arrive.
    package func scanProcesses() {
        let now = WallClock.nowMilliseconds()
        for pid in proc.pids() {
            let file = proc.cgroup(pid)
            guard let stat = proc.stat(pid) else { continue }
            let workload = Self.reading(file, confirmedBy: stat)
            table.remember(.init(pid: pid, ppid: stat.ppid, startTicks: stat.startTicks, workload: workload, confirmedAt: now))
            if let workload { launches?.learn(workload) }
        }
        sweptAt = now
    }

    package var tables: [TableSize] {
        [TableSize("processes", entries: table.count, capacity: table.capacity)] + (launches?.tables ?? [])
    }

    package func enrich(_ event: inout AuditEvent) {
        guard let process = event.process, let pid = process.pid, pid > 0 else { return }
        let now = WallClock.nowMilliseconds()
        if now - sweptAt >= sweepIntervalMilliseconds { sweep(now: now) }
        let eventBootMilliseconds = Int64(event.key.stamp.epochMilliseconds) - ProcFS.bootOffsetMilliseconds()
        defer { noteProgram(&event, pid: pid, eventBoot: eventBootMilliseconds) }
        var isRuntime = false
        if let launches {
            if event.exec != nil { isRuntime = launches.observeExec(event, pid: pid, now: now) }
            let isHelper = launches.isHelper(pid)
            event.isRuntimeProcess = isHelper
            // A new process: the runtime may have started it (it may be gone already).
            // Not one already attributed to a container (a container's shell exec'ing again
            // under the shim must not take a launch meant for another process), unless it
            // is the runtime's init helper, which is the container's whenever its cgroup
            // is read.
            if !isRuntime, launches.isFollowing, let ppid = process.ppid, ppid > 0, isHelper || !isKnownInContainer(pid, parent: ppid),
               let claim = launches.claim(pid: pid, ppid: ppid, isExec: event.exec != nil, now: now) {
                // Before its exec, a process of the launch is still the runtime's helper.
                event.isRuntimeProcess = isHelper || !claim.isProcess
                let session = claim.isProcess
                    ? remember(claim, pid: pid, ppid: ppid, hasTTY: process.tty != nil, command: { Self.command(of: event) },
                               eventBoot: eventBootMilliseconds, now: now) : nil
                finish(&event, claim.workload, execSession: session)
                return
            }
        }
        var startedByRuntime = false
        guard let workload = workload(of: pid, parent: process.ppid, eventBoot: eventBootMilliseconds, fresh: event.exec != nil,
                                      now: now, depth: 0, isRuntime: isRuntime, startedByRuntime: &startedByRuntime) else {
            event.isUnattributed = startedByRuntime
            return
        }
        // The runtime's own programs (`runc init` entering the container) begin no session.
        let session = isRuntime ? nil : execSession(of: pid, parent: process.ppid, in: workload, hasTTY: process.tty != nil,
                                                    command: { Self.command(of: event) },
                                                    eventBoot: eventBootMilliseconds, now: now)
        finish(&event, workload, execSession: session)
        // A fork in a container returns a pid of the container's own pid namespace.
        if workload.isHost, let child = event.syscall?.createdProcess {
            launches?.observeFork(child: child, by: pid, now: now)
        }
    }

    /// Remembers the executable an exec of a container process names; gives a user-space
    /// message (whose `exe` is the sender's claim) the executable its process really runs,
    /// as its exec showed it or `/proc` shows it now. (Host processes that send messages,
    /// sshd and PAM's users, are alive when they do; a container's may be gone.)
    private func noteProgram(_ event: inout AuditEvent, pid: UInt32, eventBoot: Int64) {
        if event.exec != nil {
            if event.workload?.isHost == false || event.isUnattributed, let exe = event.bytes(event.process?.exe) {
                table.setExe(Array(exe), for: pid)
            }
        } else if event.process?.exe == nil, event.message != nil, event.records.first?.type.isUserMessage == true {
            let seen = table[pid]?.exe
            let live = seen == nil && proc.stat(pid).map { startedBy($0, eventBoot: eventBoot) } == true
                ? HostFile.linkTarget("\(proc.root)/\(pid)/exe") : nil
            if let exe = seen ?? live { event.process?.exe = event.text.append(exe[...]) }
        }
    }

    /// Sets the event's workload, with the node's runtime and the Kubernetes names.
    private func finish(_ event: inout AuditEvent, _ workload: Workload, execSession: ExecSession?) {
        var workload = workload
        if workload.container != nil, workload.container?.runtime == nil, workload.pod != nil {
            workload.container?.runtime = podRuntime
        }
        kubernetes?.name(&workload)
        event.workload = workload
        event.execSession = execSession
        if let command = execSession?.command, let namespace = workload.pod?.namespace, let pod = workload.pod?.name,
           let container = workload.container?.name {
            event.kubernetesExec = KubernetesExec(key: ExecKey.make(namespace: namespace, pod: pod, container: container, command: command))
        }
    }

    /// The argv of an exec event whole, for the exec key: the event's own argv may be cut
    /// to the output's bound. Read again from its EXECVE records, once per exec session.
    private static func command(of event: AuditEvent) -> ExecCommand? {
        guard event.exec != nil else { return nil }
        var text = EventText(capacity: 256)
        let whole = ExecArguments(records: event.records, byteLimit: 1 << 30, into: &text)
        return ExecCommand(arguments: whole.argv.map { text[$0] })
    }

    /// Records a process a runtime launch started, as a new process: its exec session
    /// begins with it when the runtime's exec path started it, else it inherits none.
    private func remember(_ claim: RuntimeLaunchTracker.Claim, pid: UInt32, ppid: UInt32, hasTTY: Bool,
                          command: () -> ExecCommand?, eventBoot: Int64, now: UInt64) -> ExecSession? {
        let stat = proc.stat(pid).flatMap { startedBy($0, eventBoot: eventBoot) ? $0 : nil }
        var entry = ProcessTable.Entry(pid: pid, ppid: ppid, startTicks: stat?.startTicks, workload: claim.workload, confirmedAt: now)
        if stat == nil { entry.goneSince = now }
        if claim.beginsExecSession, let container = claim.workload.container {
            // A process already gone is dated by its event, in the same clock ticks since boot.
            let start = stat?.startTicks ?? UInt64(max(0, eventBoot)) / proc.millisecondsPerTick
            entry.execSession = ExecSession(containerID: container.id, rootPID: pid, startTicks: start, hasTTY: hasTTY, command: command())
        }
        table.replace(entry)
        return entry.execSession
    }

    /// The exec session of a container process: inherited from its parent in the same
    /// container, or begun by it when the runtime started it from outside (its parent is
    /// not in the container) and it is not the container's first process (pid 1 of the
    /// container's pid namespace). A process already gone when its exec session would
    /// begin cannot be told from a first process, and begins none.
    private func execSession(of pid: UInt32, parent: UInt32?, in workload: Workload, hasTTY: Bool, command: () -> ExecCommand?,
                             eventBoot: Int64, now: UInt64) -> ExecSession? {
        guard let container = workload.container else { return nil }
        if let known = table[pid]?.execSession { return known }
        guard let parent, parent > 0 else { return nil }
        var startedByRuntime = false
        let parentWorkload = self.workload(of: parent, parent: nil, eventBoot: eventBoot, fresh: false, now: now, depth: 1,
                                           startedByRuntime: &startedByRuntime)
        if parentWorkload?.container?.id == container.id {
            guard let inherited = table[parent]?.execSession else { return nil }
            table.setExecSession(inherited, for: pid)
            return inherited
        }
        guard let namespacePID = proc.namespacePID(pid), namespacePID != 1 else { return nil }
        let session = ExecSession(containerID: container.id, rootPID: pid, startTicks: table[pid]?.startTicks ?? 0, hasTTY: hasTTY,
                                  command: command())
        table.setExecSession(session, for: pid)
        return session
    }

    /// `fresh`: read the cgroup again even for a known process (after an exec it may have
    /// been moved, e.g. by a runtime's exec path).
    /// `isRuntime`: the process is a container runtime program, whose parent's workload is
    /// its own. For any other process, a runtime parent is no evidence (the runtime runs on
    /// the host, the process it starts in a container): it is not inherited, and
    /// `startedByRuntime` is set.
    private func workload(of pid: UInt32, parent: UInt32?, eventBoot: Int64, fresh: Bool, now: UInt64, depth: Int,
                          isRuntime: Bool = false, startedByRuntime: inout Bool) -> Workload? {
        if !fresh, let entry = table[pid], entry.goneSince == nil, now - entry.confirmedAt < confirmIntervalMilliseconds,
           parent == nil || entry.ppid == parent, let workload = entry.workload {
            return workload
        }
        var ownEntryIsEventProcess = true
        var parent = parent
        // The cgroup file is read before the stat that confirms it (see `reading`).
        let file = fresh || table[pid]?.workload == nil ? proc.cgroup(pid) : nil
        if let stat = proc.stat(pid) {
            if startedBy(stat, eventBoot: eventBoot) {
                parent = parent ?? stat.ppid
                let known = fresh ? nil : table[pid].flatMap { $0.startTicks == stat.startTicks ? $0.workload : nil }
                if let workload = known ?? Self.reading(file, confirmedBy: stat) {
                    table.remember(.init(pid: pid, ppid: stat.ppid, startTicks: stat.startTicks, workload: workload, confirmedAt: now))
                    if known == nil { launches?.learn(workload) }
                    return workload
                }
            } else {
                // The pid was reused after the event; an entry with this start time is the new process.
                ownEntryIsEventProcess = table[pid]?.startTicks != stat.startTicks
            }
        } else {
            table.markGone(pid, at: now)
        }
        if ownEntryIsEventProcess, let entry = table[pid], let workload = entry.workload, isSameProcess(entry, parent: parent) {
            return workload
        }
        guard depth < 8, let parentPID = parent ?? table[pid]?.ppid, parentPID > 0 else { return nil }
        if !isRuntime, launches?.isRuntime(parentPID) == true {
            startedByRuntime = true
            return nil
        }
        guard let inherited = workload(of: parentPID, parent: nil, eventBoot: eventBoot, fresh: false, now: now, depth: depth + 1,
                                       startedByRuntime: &startedByRuntime) else {
            return nil
        }
        if ownEntryIsEventProcess {
            var entry = ProcessTable.Entry(pid: pid, ppid: parentPID, startTicks: nil, workload: inherited, confirmedAt: now)
            entry.execSession = table[parentPID]?.execSession
            entry.goneSince = now
            table.remember(entry)
        }
        return inherited
    }

    /// Whether an event whose process has `parent` is of the process `entry` remembers: the
    /// same parent, or one that adopted it from the runtime command that started it (runc
    /// exits early by design, and the shim, conmon or init adopts what it started).
    private func isSameProcess(_ entry: ProcessTable.Entry, parent: UInt32?) -> Bool {
        guard let parent, let known = entry.ppid, known != parent else { return true }
        return launches?.isLaunch(known) == true
    }

    private func isKnownInContainer(_ pid: UInt32, parent: UInt32) -> Bool {
        guard let entry = table[pid], entry.workload?.container != nil else { return false }
        return isSameProcess(entry, parent: parent)
    }

    /// Whether a process with this stat existed at the event's time (its pid not reused since).
    private func startedBy(_ stat: ProcFS.Stat, eventBoot: Int64) -> Bool {
        Int64(stat.startTicks * proc.millisecondsPerTick) <= eventBoot + Int64(proc.millisecondsPerTick)
    }

    /// The workload a cgroup file names, if the stat read after it shows the process was
    /// not exiting yet: an exiting process reads as the root of every v1 hierarchy.
    private static func reading(_ file: [UInt8]?, confirmedBy stat: ProcFS.Stat) -> Workload? {
        guard let file, !stat.isExiting else { return nil }
        return CgroupPath.workload(fromFile: file)
    }

    /// Marks processes that exited and forgets those gone long enough.
    private func sweep(now: UInt64) {
        sweptAt = now
        launches?.expire(now: now)
        // Found first, marked after: marking while the loop still reads the table would
        // make the table copy itself whole (copy on write), every sweep.
        let gone = table.entries.compactMap { pid, entry in
            entry.goneSince == nil && (entry.startTicks == nil || proc.stat(pid)?.startTicks != entry.startTicks) ? pid : nil
        }
        for pid in gone { table.markGone(pid, at: now) }
        table.forgetExited(now: now)
    }
}

/// The node's CRI runtime, from the sockets its daemons listen on.
package enum ContainerRuntimeSockets {
    package static func detect(root: String = "") -> String? {
        let candidates = [("/run/containerd/containerd.sock", "containerd"), ("/var/run/crio/crio.sock", "cri-o"),
                          ("/run/crio/crio.sock", "cri-o"), ("/var/run/cri-dockerd.sock", "docker")]
        for (path, runtime) in candidates where access(root + path, F_OK) == 0 { return runtime }
        return nil
    }
}
