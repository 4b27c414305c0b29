import Pipeline
import AuditEvents
import AuditKernel
import AuditRules
import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// One run's hold on the kernel's audit stream: the daemon role (or the read-only
/// multicast copy), taking over from another daemon or being handed over from a previous
/// nodeaudit, the rule that excludes nodeaudit's own syscalls, and, when asked, leaving
/// the kernel's rules and settings as they were found.
package final class KernelSession {
    package let control: AuditControl
    package let socket: AuditEventSocket
    private let mode: AuditEventSocket.Mode
    private let diagnostics: Diagnostics
    /// The rule that keeps nodeaudit's own syscalls out of the stream.
    private(set) var selfExclusion: EncodedRule?
    /// The kernel's rules and settings before this run changed them, for `cleanup`.
    private var kernelAtStart: KernelAuditState?
    /// The kernel's `lost` counter when the run started.
    package let lostAtStart: UInt32

    /// A hand-over from a previous nodeaudit that still holds the audit stream (a rolling
    /// update with `maxSurge`): this run reads the kernel's multicast copy meanwhile,
    /// registers once the previous one has left, and drops records read on both sockets.
    /// Records are remembered from the first one read, not from the registration: on a
    /// kernel booted with `audit=1`, what was logged while no daemon was registered waits
    /// in the kernel's hold queue and comes again, by unicast, once this run registers.
    private struct Handover {
        package let previousPID: UInt32
        /// Closed after the overlap; the deduplicator then still guards the unicast
        /// socket a moment, for the copies of what multicast delivered first.
        package var multicast: AuditEventSocket?
        package var registeredAt: UInt64?
        package var deduplicator = RecordDeduplicator()
    }
    private var handover: Handover?
    private var nextHandoverCheck: UInt64 = 0
    /// Both copies are read this long after registering, to take what the multicast
    /// socket still held of the time before; unicast records are compared with what
    /// multicast delivered for this long more.
    package static let handoverOverlapMilliseconds: UInt64 = 2000
    package static let handoverTailMilliseconds: UInt64 = 1000

    package struct StartError: Error, CustomStringConvertible {
        package var description: String
        /// A rule file that cannot be used is the operator's to fix; anything else
        /// failed on this node.
        package var isBadInput = false
    }

    /// Opens the control channel and reads the kernel's state; with `takeOver`, stops
    /// another audit daemon first. The stream is not read until `open`.
    package init(options: LiveOptions, diagnostics: Diagnostics) throws(StartError) {
        self.diagnostics = diagnostics
        mode = options.mode
        let status: AuditStatus
        do throws(KernelError) {
            control = try AuditControl()
            status = try control.status()
        } catch {
            throw StartError(description: error.description)
        }
        lostAtStart = status.lost
        var handoverFrom: UInt32?
        if options.mode == .unicast, status.pid != 0, status.pid != UInt32(getpid()), Self.isAlive(status.pid) {
            let holder = "pid \(status.pid) (\(Self.command(of: status.pid)))"
            if !options.takeOver, Self.command(of: status.pid) == "nodeaudit" {
                handoverFrom = status.pid
            } else if !options.takeOver {
                throw StartError(description: """
                    the audit stream already goes to \(holder); the kernel lets only one audit daemon \
                    register. Stop it, run with --multicast to read beside it, or --take-over to replace it.
                    """)
            } else {
                try Self.takeOver(from: status.pid, holder: holder, control: control, diagnostics: diagnostics)
            }
        }
        do throws(KernelError) {
            if options.cleanup { kernelAtStart = try .read(control) }
            socket = try AuditEventSocket(mode: options.mode, receiveBufferBytes: options.receiveBufferBytes)
            if let previous = handoverFrom {
                handover = Handover(previousPID: previous,
                                    multicast: try AuditEventSocket(mode: .multicast, receiveBufferBytes: options.receiveBufferBytes))
            }
        } catch {
            throw StartError(description: error.description)
        }
    }

    /// Whether this run began beside a previous nodeaudit (the runs overlap).
    package var isHandedOver: Bool { handover != nil }

    /// Whether this run still waits for the previous one to leave the audit stream.
    package var awaitingHandover: Bool { handover != nil && handover?.registeredAt == nil }

    /// Receive-buffer overflows of the event socket.
    package var overflows: UInt64 { socket.counters.overflows }

    /// Excludes nodeaudit's own syscalls and starts reading: registers as the audit daemon,
    /// or during a hand-over reads the multicast copy until the previous run has left.
    package func open() throws(StartError) {
        excludeSelf()
        do throws(KernelError) {
            if let handover, let multicast = handover.multicast {
                diagnostics.notice("reading from the audit multicast group while pid \(handover.previousPID) (nodeaudit) holds the "
                    + "audit stream; taking its place when it leaves (pid \(getpid()), receive buffer \(multicast.receiveBufferBytes) bytes)")
            } else {
                try socket.register()
                let how = mode == .unicast ? "as the audit daemon" : "from the audit multicast group"
                diagnostics.notice("reading \(how) (pid \(getpid()), receive buffer \(socket.receiveBufferBytes) bytes)")
            }
        } catch {
            throw StartError(description: error.description)
        }
    }

    /// Registers again as the audit daemon (drift repair, when the pid was cleared).
    package func register() throws(KernelError) { try socket.register() }

    // MARK: - Reading

    /// Waits up to `milliseconds` for records on any of the session's sockets; false on
    /// an error other than an interruption.
    package func waitForRecords(milliseconds: Int32) -> Bool {
        var pollers = [pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)]
        if let multicast = handover?.multicast { pollers.append(pollfd(fd: multicast.descriptor, events: Int16(POLLIN), revents: 0)) }
        return poll(&pollers, nfds_t(pollers.count), milliseconds) >= 0 || errno == EINTR
    }

    /// Hands the records waiting on the session's sockets to `record` (each once, during
    /// a hand-over), and moves the hand-over on. Returns the records read.
    ///
    /// During a hand-over the multicast socket is read first: it has every record in the
    /// kernel's order, while unicast has only those sent after this run registered. Read
    /// the other way, an event logged across the registration lost its order: its last
    /// records, taken from unicast, closed it as an event of their own, and its first
    /// ones, still waiting on multicast, came after as a late event.
    ///
    /// Each socket is read at most `batchLimit` times (`readBatchLimit`: about a thousand
    /// records), during a hand-over too, so that a flood does not keep the caller from its
    /// flushes and its stop request. While multicast still holds records, unicast waits
    /// for a later read (the kernel keeps its records meanwhile): its records come after
    /// those, in the kernel's order. The hand-over moves on only once a read left nothing
    /// behind on either socket (`advanceHandover`).
    /// `emptied`: false when the bound ended the read with records still waiting.
    package func read<E: Error>(batchLimit: Int = KernelSession.readBatchLimit,
                                _ record: (UInt16, UnsafeRawBufferPointer) throws(E) -> Void)
        throws(StreamReadError<E>) -> (records: Int, emptied: Bool) {
        var read = 0
        if let multicast = handover?.multicast {
            let copies = try drain(multicast, batchLimit: batchLimit, into: record)
            read += copies.records
            guard copies.emptied else {
                advanceHandover(caughtUp: false)
                return (read, false)
            }
        }
        let unicast = try drain(socket, batchLimit: batchLimit, into: record)
        advanceHandover(caughtUp: unicast.emptied)
        return (read + unicast.records, unicast.emptied)
    }

    /// Reads of the socket per `read`: a few milliseconds of work between the loop's
    /// flushes and checks for a stop request, whatever the rate.
    package static let readBatchLimit = 16
    /// Reads at stop: half a million records, more than a receive buffer holds (each
    /// takes about 2.5 KiB of it).
    static let closingBatchLimit = 8192

    private func drain<E: Error>(_ socket: AuditEventSocket, batchLimit: Int,
                                 into record: (UInt16, UnsafeRawBufferPointer) throws(E) -> Void)
        throws(StreamReadError<E>) -> (records: Int, emptied: Bool) {
        let deduplicating = handover != nil
        return try socket.drain(batchLimit: batchLimit) { (type, payload) throws(E) in
            if deduplicating, handover?.deduplicator.isNew(type: type, payload: payload) == false { return }
            try record(type, payload)
        }
    }

    /// Registers once the previous run has left the stream (polled every 100 ms); ends
    /// the overlap and then the hand-over when their time is up and the last read left
    /// nothing on either socket (`caughtUp`): multicast closed with records in it would
    /// lose those not yet sent by unicast, and unicast records still waiting when the
    /// deduplication ends could be copies of what multicast delivered.
    private func advanceHandover(caughtUp: Bool) {
        guard let current = handover else { return }
        let now = MonotonicClock.nowMilliseconds()
        if let registeredAt = current.registeredAt {
            guard caughtUp else { return }
            if current.multicast != nil, now - registeredAt >= Self.handoverOverlapMilliseconds {
                handover?.multicast = nil
            } else if now - registeredAt >= Self.handoverOverlapMilliseconds + Self.handoverTailMilliseconds {
                diagnostics.notice("hand-over complete: reading as the audit daemon only "
                    + "(\(current.deduplicator.duplicates) records read on both sockets were written once)")
                handover = nil
            }
        } else if now >= nextHandoverCheck {
            nextHandoverCheck = now + 100
            guard let status = try? control.status(), status.pid == 0 || !Self.isAlive(status.pid) else { return }
            do throws(KernelError) {
                try socket.register()
                handover?.registeredAt = now
                diagnostics.notice("pid \(current.previousPID) (nodeaudit) left the audit stream: reading as the audit daemon")
            } catch {
                // Someone else was quicker, or the previous run is still being cleared: try again.
                if error.errno != EEXIST { diagnostics.error("taking over the audit stream: \(error)") }
            }
        }
    }

    // MARK: - Stop

    /// Gives the audit pid back, reads what is left, removes the self-exclusion and,
    /// with cleanup, puts the kernel's rules and settings back as they were found.
    /// A failure of `record` travels on, once the kernel is cleaned up; the socket's own
    /// failure at the end of the stream is said and ends the reading.
    package func close<E: Error>(readingRest record: (UInt16, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) {
        socket.unregister()
        var consumerFailure: E?
        // Once the pid is given back, unicast has only what the kernel had sent: its
        // receive buffer, read to the end (a multicast reader's flood is cut short).
        do throws(StreamReadError<E>) { _ = try read(batchLimit: Self.closingBatchLimit, record) } catch {
            switch error {
            case .kernel(let failure): diagnostics.error("reading the last records: \(failure)")
            case .consumer(let failure): consumerFailure = failure
            }
        }
        if let selfExclusion { try? control.delete(selfExclusion.data) }
        if let kernelAtStart {
            let (changes, failures) = kernelAtStart.restore(control)
            changes.forEach { diagnostics.notice("cleanup: \($0)") }
            failures.forEach { diagnostics.error("cleanup: \($0)") }
        }
        if let consumerFailure { throw consumerFailure }
    }

    // MARK: -

    /// nodeaudit's own syscalls (netlink reads, writes to stdout) would match broad exit
    /// rules and feed back into the stream; a `never` rule for its pid goes first.
    private func excludeSelf() {
        let spec = RuleSpec.excludingProcess(getpid())
        let source = RuleSource(file: "<nodeaudit>", line: 0, text: "-A never,exit -F pid=\(getpid())")
        do {
            let rule = try RuleEncoder.encode(spec, prepend: true, source: source)
            try control.add(rule)
            selfExclusion = rule
        } catch {
            diagnostics.notice("could not exclude nodeaudit's own syscalls: \(error)")
        }
    }

    /// The kernel never lets a second daemon replace a live one (EEXIST), so taking over
    /// means asking the holder to stop (SIGTERM) and waiting until it gave the pid back.
    private static func takeOver(from pid: UInt32, holder: String, control: AuditControl,
                                 diagnostics: Diagnostics) throws(StartError) {
        diagnostics.notice("--take-over: stopping \(holder), which holds the audit stream")
        kill(pid_t(pid), SIGTERM)
        for _ in 0..<100 {
            usleep(50_000)
            guard let now = try? control.status() else { continue }
            if now.pid == 0 || !isAlive(now.pid) { return }
        }
        throw StartError(description: "\(holder) did not give the audit stream back within 5 s of SIGTERM")
    }

    private static func isAlive(_ pid: UInt32) -> Bool {
        kill(pid_t(pid), 0) == 0 || errno == EPERM
    }

    private static func command(of pid: UInt32) -> String {
        let bytes = (try? HostFile.read("/proc/\(pid)/comm")) ?? []
        let name = String(decoding: bytes.prefix { $0 != UInt8(ascii: "\n") }, as: UTF8.self)
        return name.isEmpty ? "unknown program" : name
    }
}
