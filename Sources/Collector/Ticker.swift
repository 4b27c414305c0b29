/// The read loop's periodic work, each job at its own interval, asked after every read:
/// one clock and one place instead of a hand-rolled timer per job.
package struct Ticker {
    package enum Job: CaseIterable {
        /// Closing expired events and handing events to the outputs.
        case flush
        /// /metrics' counters.
        case metrics
        /// The kernel's lost counter, for the state kept for the next run.
        case kernelStatus
        /// Saying on stderr what outputs dropped or collectors refused.
        case dropReport
        /// Comparing the kernel's rules and settings with the files.
        case driftCheck
        /// Looking whether the rule files changed (a ConfigMap update).
        case ruleFileWatch
        /// Looking whether the Sigma rule files changed.
        case sigmaWatch
        /// The statistics line on stderr.
        case statistics
    }

    private var last: [Job: UInt64]

    /// Every job is due at once, but those in `firstAfterOneInterval`, whose first turn
    /// comes one interval after `now`.
    package init(now: UInt64, firstAfterOneInterval: Set<Job>) {
        last = Dictionary(uniqueKeysWithValues: Job.allCases.map { ($0, firstAfterOneInterval.contains($0) ? now : 0) })
    }

    /// Whether `job` is due at `now` for an interval of `milliseconds` (0: never); when
    /// it is, its next turn is one interval from now.
    package mutating func isDue(_ job: Job, every milliseconds: UInt64, now: UInt64) -> Bool {
        guard milliseconds > 0, now - (last[job] ?? 0) >= milliseconds else { return false }
        last[job] = now
        return true
    }
}
