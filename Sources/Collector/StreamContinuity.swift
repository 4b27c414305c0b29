import OwnEvents
import Pipeline
import HostIO
import Output

/// What links one `nodeaudit run` to the next: the state kept in `state.directory` (the
/// highest serial written, the kernel's lost counter), and the report of a gap since the
/// previous run, made once the first record has come.
///
/// The state is saved from the loop's thread and from the outputs' delivery threads (as
/// soon as they delivered), one at a time.
package final class StreamContinuity: @unchecked Sendable {
    private let stateFile: StreamStateFile?
    private let boot = StreamState.currentBoot()
    private let lostAtStart: UInt32
    private let node: String?
    /// The kernel's lost counter as last read.
    private let kernelLost: Monitor<UInt32>
    /// Whether the gap since the previous run was looked at (or needs no look: the runs
    /// overlapped in a hand-over).
    private(set) var checked: Bool
    /// Events between the previous run's last and this run's first that neither read.
    private(set) var missing: UInt64 = 0

    package init(directory: String, lostAtStart: UInt32, node: String?, overlapping: Bool, diagnostics: Diagnostics) {
        var file: StreamStateFile?
        do throws(HostFile.FileError) {
            file = try StreamStateFile(directory: directory)
        } catch {
            diagnostics.error("state directory: \(error); a gap between this run and the next will not be reported")
        }
        stateFile = file
        self.lostAtStart = lostAtStart
        kernelLost = Monitor(lostAtStart)
        self.node = node
        checked = overlapping
    }

    /// Records the kernel's lost counter, for the next save.
    package func setKernelLost(_ lost: UInt32) {
        kernelLost.withLock { $0 = lost }
    }

    /// Writes what the next run compares with: the highest serial the outputs settled,
    /// asked under the lock so that saves from two threads never put an older serial
    /// after a newer one.
    package func save(now: UInt64, highestSerialSettled: () -> UInt64) {
        guard let stateFile else { return }
        kernelLost.withLock { lost in
            let serial = highestSerialSettled()
            guard serial > 0 else { return }
            stateFile.write(StreamState(boot: boot, highestSerialWritten: serial, kernelLost: lost, epochMilliseconds: now))
        }
    }

    /// The gap since the previous run, given this run's first serial: nil when there is
    /// none to report (no previous run on this boot, or nothing was lost).
    package func gap(firstSerial: UInt64) -> RestartGapReport? {
        checked = true
        guard let previous = stateFile?.previous, previous.boot == boot else { return nil }
        let report = RestartGapReport(
            epochMilliseconds: WallClock.nowMilliseconds(), node: node, previousSerial: previous.highestSerialWritten,
            firstSerial: firstSerial, kernelLostRecords: UInt64(lostAtStart >= previous.kernelLost ? lostAtStart - previous.kernelLost : 0),
            previousStoppedMilliseconds: previous.epochMilliseconds)
        missing = report.missingEvents
        return report.missingEvents > 0 || report.kernelLostRecords > 0 ? report : nil
    }
}

/// What the outputs' delivery threads call each time they delivered: set, once the stream's
/// continuity is known, to save the state at once (a kill between a delivery and the next
/// save would count the delivered events as missing).
package final class SettledStateSaver: @unchecked Sendable {
    /// The closure is held by a class, not stored in the monitor itself: a function value
    /// kept in a generic container and read through `inout` is wrapped in two more
    /// reabstraction thunks at each access (Swift 6.3), so every delivery made the call
    /// chain deeper, leaked 64 bytes and would in the end have overflowed the stack.
    private final class Action: Sendable {
        let run: @Sendable () -> Void
        init(_ run: @escaping @Sendable () -> Void) { self.run = run }
    }

    private let action = Monitor<Action?>(nil)

    package init() {}

    package func set(_ save: @escaping @Sendable () -> Void) {
        let action = Action(save)
        self.action.withLock { $0 = action }
    }

    package func delivered() {
        action.withLock { $0 }?.run()
    }
}
