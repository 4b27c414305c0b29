import AuditEvents

/// The container runtime's launches the stream showed (`runc create|run|exec … ID`), so
/// that the process each one starts is attributed to its container from the stream alone,
/// however briefly it lives: no race against its exit.
///
/// The process a launch starts execs under one of two parents. While the runtime command
/// still runs, the kernel names it (`runc exec` is usually still there); once it has
/// exited, the process has been re-parented to the runtime's supervisor (the shim, conmon,
/// a subreaper), or to init. So a new process is claimed by a launch when its parent is
/// the launch's runtime process, or when its parent is a trusted supervisor with a launch
/// not yet claimed (the newest first: the runtime starts one process at a time per
/// launch). Orphans adopted by init are matched by the pid the runtime wrote down.
///
/// Bounded: at most `capacity` launches, each kept `retentionMilliseconds` after it was
/// seen or claimed.
package struct ContainerLaunches: Sendable {
    package struct Launch: Sendable, Equatable {
        /// The pid of the runtime command (`runc exec`).
        package var runtimePID: UInt32
        /// The runtime command's parent: the shim, conmon, or whoever ran it.
        package var supervisorPID: UInt32?
        /// Whether the supervisor is itself a trusted runtime program (shim, conmon): only
        /// then are its other children taken for the launch's process.
        package var supervisorTrusted: Bool
        package var containerID: String
        package var action: RuntimeCommand.Action
        /// The container's cgroup path and pod as the runtime's files told them, when read.
        package var workload: Workload?
        /// Files the runtime writes the started process's pid to (`--pid-file`, its state).
        package var pidSources: [String]
        /// When the launch was seen (milliseconds, the caller's clock).
        package var seenAt: UInt64
        /// The process it started, once claimed.
        package var claimedBy: UInt32?
        /// The pid its runtime wrote (`pidSources`), once read.
        package var writtenPID: UInt32?

        package init(runtimePID: UInt32, supervisorPID: UInt32?, supervisorTrusted: Bool, containerID: String,
                    action: RuntimeCommand.Action, workload: Workload? = nil, pidSources: [String] = [], seenAt: UInt64) {
            self.runtimePID = runtimePID
            self.supervisorPID = supervisorPID
            self.supervisorTrusted = supervisorTrusted
            self.containerID = containerID
            self.action = action
            self.workload = workload
            self.pidSources = pidSources
            self.seenAt = seenAt
        }
    }

    private var launches: [UInt32: Launch] = [:]
    /// How many remembered launches each trusted supervisor ran: asked for the parent of
    /// every process whose own entry says nothing, so it must not scan the launches.
    private var supervisors: [UInt32: Int] = [:]
    /// How many launches no process has claimed yet.
    package private(set) var unclaimedCount = 0
    package let retentionMilliseconds: UInt64
    package let capacity: Int

    package init(retentionMilliseconds: UInt64 = 120_000, capacity: Int = 4096) {
        self.retentionMilliseconds = retentionMilliseconds
        self.capacity = max(1, capacity)
    }

    package var count: Int { launches.count }

    /// The launch whose runtime command has this pid.
    package subscript(runtimePID: UInt32) -> Launch? { launches[runtimePID] }

    /// Records a launch; the same pid's earlier launch (a reused pid) is replaced.
    package mutating func record(_ launch: Launch) {
        forget(runtimePID: launch.runtimePID)
        if launches.count >= capacity { forgetOldest(launches.count - capacity * 7 / 8) }
        launches[launch.runtimePID] = launch
        count(launch, by: 1)
    }

    /// The pid no longer runs the runtime command (it exec'd something else).
    package mutating func forget(runtimePID: UInt32) {
        guard let launch = launches.removeValue(forKey: runtimePID) else { return }
        count(launch, by: -1)
    }

    /// Unclaimed launches under a trusted supervisor `pid`, newest first.
    package func pending(supervisor pid: UInt32) -> [Launch] {
        guard supervisors[pid] != nil else { return [] }
        return launches.values.filter { $0.supervisorTrusted && $0.supervisorPID == pid && $0.claimedBy == nil }
            .sorted { ($0.seenAt, $0.runtimePID) > ($1.seenAt, $1.runtimePID) }
    }

    /// Unclaimed launches that can be matched by the pid the runtime wrote, newest first.
    package func unclaimed() -> [Launch] {
        guard unclaimedCount > 0 else { return [] }
        return launches.values.filter { $0.claimedBy == nil && !$0.pidSources.isEmpty }
            .sorted { ($0.seenAt, $0.runtimePID) > ($1.seenAt, $1.runtimePID) }
    }

    /// Whether `pid` is the trusted supervisor of a launch still remembered.
    package func isSupervisor(_ pid: UInt32) -> Bool { supervisors[pid] != nil }

    /// `pid` is the process `runtimePID`'s launch started.
    package mutating func claim(runtimePID: UInt32, by pid: UInt32, at now: UInt64) {
        guard let launch = launches[runtimePID] else { return }
        if launch.claimedBy == nil { unclaimedCount -= 1 }
        launches[runtimePID]?.claimedBy = pid
        launches[runtimePID]?.seenAt = now
    }

    /// Remembers the pid the runtime wrote for a launch, so that its files are read once.
    package mutating func setWrittenPID(_ pid: UInt32, runtimePID: UInt32) {
        launches[runtimePID]?.writtenPID = pid
    }

    /// Forgets launches older than the retention.
    package mutating func expire(now: UInt64) {
        for (pid, launch) in launches where now >= launch.seenAt && now - launch.seenAt > retentionMilliseconds {
            forget(runtimePID: pid)
        }
    }

    private mutating func forgetOldest(_ count: Int) {
        for launch in launches.values.sorted(by: { $0.seenAt < $1.seenAt }).prefix(max(1, count)) {
            forget(runtimePID: launch.runtimePID)
        }
    }

    private mutating func count(_ launch: Launch, by step: Int) {
        if launch.claimedBy == nil { unclaimedCount += step }
        guard launch.supervisorTrusted, let supervisor = launch.supervisorPID else { return }
        let remaining = (supervisors[supervisor] ?? 0) + step
        supervisors[supervisor] = remaining > 0 ? remaining : nil
    }
}
