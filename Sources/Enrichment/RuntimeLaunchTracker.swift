import HostIO
import Attribution
import AuditEvents
import AuditRecords

/// Follows the container runtime through the stream and attributes the processes it
/// starts: `ContainerLaunches` (which process each launch started) fed from the execs of
/// trusted runtime programs, and the runtime's files for the container's cgroup and pod.
///
/// Used by `WorkloadResolver`, on its thread.
final class RuntimeLaunchTracker {
    /// A process a launch started, and how.
    struct Claim {
        var workload: Workload
        /// The runtime's exec path started it (`runc exec`): it begins an exec session.
        var beginsExecSession: Bool
        /// The process itself, to be remembered as the container's; false for an event of
        /// the runtime's helper before the exec that makes it the launch's process.
        var isProcess: Bool
    }

    private let programs: RuntimePrograms
    private let files: RuntimeFiles
    private let procRoot: String
    private var launches = ContainerLaunches()
    /// Pids whose last exec was the runtime's `init` helper (runc re-execs it from a copy
    /// of itself, which is at no trusted path).
    private var helpers: [UInt32: (containerID: String, seenAt: UInt64)] = [:]
    /// Container workloads seen before (from `/proc` or the runtime's files), by id: an
    /// exec into a running container names the pod the container's processes showed.
    private var known: [String: Workload] = [:]
    private static let knownCapacity = 8192
    /// Trusted supervisors (a shim, conmon) the stream showed exec'ing, or forked by one
    /// on the node, by pid: a launch whose supervisor is gone from `/proc` by the time it
    /// is read (a one-shot pod's shim exits with its container, an exec's conmon with the
    /// exec) still has it trusted from its exec. conmon supervises as a forked copy of
    /// itself (it daemonizes), which never execs.
    private var supervisorsSeen: [UInt32: UInt64] = [:]
    private static let supervisorsSeenCapacity = 4096
    /// The most unclaimed launches whose pid files an orphan is compared with.
    private static let orphanCandidates = 16
    /// How long after a launch its pid files are looked for: the runtime writes them
    /// within milliseconds, and a container deleted since has none.
    private static let pidFileWaitMilliseconds: UInt64 = 10_000

    init(programs: RuntimePrograms, files: RuntimeFiles, procRoot: String) {
        self.programs = programs
        self.files = files
        self.procRoot = procRoot
    }

    /// Remembers a container's workload as `/proc` showed it.
    func learn(_ workload: Workload) {
        guard let id = workload.container?.id, known[id] != workload else { return }
        if known.count >= Self.knownCapacity { known.removeAll(keepingCapacity: true) }
        known[id] = workload
    }

    /// Reads an exec event: a trusted runtime's launch is recorded. Returns true when the
    /// exec'd program is the runtime itself (its own commands are not container processes).
    func observeExec(_ event: AuditEvent, pid: UInt32, now: UInt64) -> Bool {
        // Most execs are neither a launch's runtime command nor a helper: nothing to forget.
        if launches.count > 0 { launches.forget(runtimePID: pid) }
        guard let process = event.process, let exeRange = process.exe else { return false }
        let exe = event.text[exeRange]
        // runc's init helper execs `runc init` again, from a copy of runc that is at no
        // trusted path (in memory, or a private read-only mount the kernel names `/`).
        if !helpers.isEmpty {
            if helpers[pid] != nil, let argv = event.exec?.argv, argv.count == 2, event.text[argv[1]].equals("init") { return false }
            helpers[pid] = nil
        }
        if !supervisorsSeen.isEmpty { supervisorsSeen[pid] = nil }
        guard programs.contains(exe) else { return false }
        let owner = event.paths.first { $0.item == 0 }?.owner?.id
        let isTrusted = programs.trusts(exe: exe, owner: owner, euid: process[.euid]?.id)
        guard isTrusted, RuntimePrograms.isOCIRuntime(exe) else {
            if isTrusted { rememberSupervisor(pid, now: now) }
            return true
        }
        guard let argv = event.exec?.argv.map({ event.text[$0].utf8String }), let command = RuntimeCommand.parse(argv) else {
            return true
        }
        let cwd = event.string(process.cwd)
        switch command.action {
        case .initHelper:
            if let ppid = process.ppid, let launch = launches[ppid] { helpers[pid] = (launch.containerID, now) }
        case .start, .exec:
            guard let id = command.containerID else { break }
            record(command, id: id, pid: pid, ppid: process.ppid, exe: exe.utf8String, cwd: cwd, now: now)
        case .manage:
            break
        }
        return true
    }

    private func record(_ command: RuntimeCommand, id: String, pid: UInt32, ppid: UInt32?, exe: String, cwd: String?, now: UInt64) {
        let root = files.hostPath(command.root ?? RuntimeFiles.defaultRoot(runtimeExe: exe), cwd: cwd)
        var pidSources: [String] = []
        if let pidFile = command.pidFile.flatMap({ files.hostPath($0, cwd: cwd) }) { pidSources.append(pidFile) }
        var workload: Workload?
        if command.action == .start {
            if let root { pidSources.append(root + "/" + id + "/state.json") }
            // The bundle is written before the runtime is asked to create the container.
            if let bundle = files.hostPath(command.bundle ?? ".", cwd: cwd) {
                workload = files.bundleWorkload(bundle: bundle, containerID: id)
            }
        }
        if workload == nil, let known = known[id] { workload = known }
        if workload == nil, let root { workload = files.stateWorkload(root: root, containerID: id) }
        if let workload { learn(workload) }
        // The supervisor as `/proc` shows it; when it is gone already, as its exec showed it.
        let supervisor = ppid.flatMap { files.executable(procRoot: procRoot, pid: $0) }
        let trusted = supervisor.map { $0.ownedByRoot && programs.contains($0.path[...]) }
            ?? ppid.map { supervisorsSeen[$0] != nil } ?? false
        expire(now: now)
        launches.record(.init(runtimePID: pid, supervisorPID: ppid, supervisorTrusted: trusted, containerID: id,
                              action: command.action, workload: workload, pidSources: pidSources, seenAt: now))
    }

    /// The launch that started `pid`, whose parent is `ppid`, if the stream showed one:
    /// the parent is the launch's runtime command, or a trusted supervisor with a launch
    /// not yet claimed, or (an orphan) the runtime wrote down `pid`.
    ///
    /// Only an exec claims a launch: until its exec, a child of the runtime is the
    /// runtime's own helper entering the container (runc's init stages), attributed to the
    /// container but not taken for the process the launch started.
    func claim(pid: UInt32, ppid: UInt32, isExec: Bool, now: UInt64) -> Claim? {
        guard isFollowing else { return nil }
        if let helper = helpers[pid] {
            return Claim(workload: workload(ofContainer: helper.containerID, launch: nil), beginsExecSession: false, isProcess: true)
        }
        if let launch = launches[ppid] {
            // Only the first child is the launch's process; the runtime's helpers come before it.
            guard launch.claimedBy == nil || launch.claimedBy == pid else { return nil }
            return take(launch, by: pid, isExec: isExec, now: now)
        }
        let pending = launches.pending(supervisor: ppid)
        if !pending.isEmpty {
            var undecided: ContainerLaunches.Launch?
            for launch in pending {
                let written = writtenPID(of: launch, now: now)
                if written == pid { return take(launch, by: pid, isExec: isExec, now: now) }
                if written == nil, undecided == nil { undecided = launch }
            }
            return undecided.map { take($0, by: pid, isExec: isExec, now: now) }
        }
        // An orphan: the runtime command (`runc run` by hand) exited before the process
        // exec'd, and init adopted it.
        guard ppid == 1 else { return nil }
        for launch in launches.unclaimed().prefix(Self.orphanCandidates) where writtenPID(of: launch, now: now) == pid {
            return take(launch, by: pid, isExec: isExec, now: now)
        }
        return nil
    }

    /// The pid a launch's runtime wrote, read from its files until found (once the
    /// launch is some seconds old, files still missing are not looked for again).
    private func writtenPID(of launch: ContainerLaunches.Launch, now: UInt64) -> UInt32? {
        if let known = launch.writtenPID { return known }
        guard now < launch.seenAt + Self.pidFileWaitMilliseconds else { return nil }
        // Each file read once: `lazy.compactMap(…).first` read the one it found twice, and
        // when the runtime removed it in between, the second read's nil was force-unwrapped
        // (nodeaudit crashed: the containerd test's rare lost barrier).
        for source in launch.pidSources {
            guard let pid = files.pid(from: source) else { continue }
            launches.setWrittenPID(pid, runtimePID: launch.runtimePID)
            return pid
        }
        return nil
    }

    /// Reads a fork on the node: the copy a trusted supervisor forks runs the same
    /// program, and supervises in its place when the original exits (conmon daemonizing).
    func observeFork(child: UInt32, by pid: UInt32, now: UInt64) {
        guard !supervisorsSeen.isEmpty, supervisorsSeen[pid] != nil else { return }
        rememberSupervisor(child, now: now)
    }

    /// Remembers a trusted supervisor (bounded: when full, the oldest half goes).
    private func rememberSupervisor(_ pid: UInt32, now: UInt64) {
        if supervisorsSeen.count >= Self.supervisorsSeenCapacity {
            let newest = supervisorsSeen.values.sorted()[supervisorsSeen.count / 2]
            supervisorsSeen = supervisorsSeen.filter { $0.value >= newest }
        }
        supervisorsSeen[pid] = now
    }

    /// Forgets launches and helpers past the retention (helpers exit without a word: the
    /// stream shows no exit).
    func expire(now: UInt64) {
        launches.expire(now: now)
        if !helpers.isEmpty {
            helpers = helpers.filter { now < $0.value.seenAt || now - $0.value.seenAt <= launches.retentionMilliseconds }
        }
    }

    /// Whether any launch or helper is remembered: on a node without recent container
    /// starts, nothing else here needs asking.
    var isFollowing: Bool { launches.count > 0 || !helpers.isEmpty }

    /// The launches followed, the containers known and the supervisors seen, with their bounds.
    var tables: [TableSize] {
        [TableSize("container_launches", entries: launches.count, capacity: launches.capacity),
         TableSize("containers", entries: known.count, capacity: Self.knownCapacity),
         TableSize("container_supervisors", entries: supervisorsSeen.count, capacity: Self.supervisorsSeenCapacity)]
    }

    /// Whether `pid` is the runtime's init helper of a launch the stream showed (its
    /// `runc init` exec, and the re-exec from runc's copy of itself).
    func isHelper(_ pid: UInt32) -> Bool { !helpers.isEmpty && helpers[pid] != nil }

    /// Whether `pid` ran a launch the stream showed (`runc create|run|exec`).
    func isLaunch(_ pid: UInt32) -> Bool { launches[pid] != nil }

    /// Whether `pid` is a runtime command or a trusted supervisor of the stream's recent
    /// launches: a process it started that no launch claims is not the host's.
    func isRuntime(_ pid: UInt32) -> Bool {
        guard isFollowing else { return false }
        return launches[pid] != nil || helpers[pid] != nil || launches.isSupervisor(pid)
    }

    /// `launch`'s container; taken by `pid` when it is the launch's process (`isExec`).
    private func take(_ launch: ContainerLaunches.Launch, by pid: UInt32, isExec: Bool, now: UInt64) -> Claim {
        if isExec { launches.claim(runtimePID: launch.runtimePID, by: pid, at: now) }
        return Claim(workload: workload(ofContainer: launch.containerID, launch: launch), beginsExecSession: isExec && launch.action == .exec,
                     isProcess: isExec)
    }

    private func workload(ofContainer id: String, launch: ContainerLaunches.Launch?) -> Workload {
        launch?.workload ?? known[id] ?? Workload(container: .init(id: id))
    }
}

