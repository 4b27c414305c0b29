import HostIO
import AuditEvents
import AuditKernel
import AuditRecords
import AuditRules
import Configuration
import Enrichment
import Output
#if canImport(Glibc)
import Glibc
#endif

/// `nodeaudit run`: loads the rules, reads the kernel's audit stream, and writes each
/// event to stdout as soon as it is complete. Its own messages go to stderr.
///
/// Loss is counted from every side: the kernel's `lost` counter (polled on a second
/// socket), gaps in event serials, and overflows of the receive buffer.
public final class LiveCollector {
    private var options: LiveOptions
    /// The configuration in force, and how to read it again (SIGHUP).
    private var configuration: Configuration
    private let reloadConfiguration: () throws -> Configuration
    private var reloadsHandled = ProcessSignals.reloadCount
    private var counterRequestsHandled = ProcessSignals.counterRequestCount
    private let diagnostics = Diagnostics()
    private let pipeline: EventPipeline
    private let output: OutputSet
    private let control: AuditControl
    private var socket: AuditEventSocket?
    private var selfExclusion: EncodedRule?
    private var lostAtStart: UInt32 = 0
    /// The state for the next run, and what the previous one left; nil without a
    /// usable state directory.
    private var stateFile: StreamStateFile?
    private let boot = StreamState.currentBoot()
    /// The kernel's lost counter as last read (every second).
    private var kernelLost: UInt32 = 0
    /// Whether the gap since the previous run was looked at (once the first record came).
    private var restartChecked = false
    private var restartMissing: UInt64 = 0

    /// A hand-over from a previous nodeaudit that still holds the audit stream (a rolling
    /// update with `maxSurge`): this run reads the kernel's multicast copy meanwhile,
    /// registers once the previous one has left, and drops records read on both sockets.
    private struct Handover {
        let previousPID: UInt32
        /// Closed after the overlap; the deduplicator then still guards the unicast
        /// socket a moment, for the copies of what multicast delivered first.
        var multicast: AuditEventSocket?
        var registeredAt: UInt64?
        var deduplicator = RecordDeduplicator()
    }
    private var handover: Handover?
    /// Both copies are read this long after registering, to take what the multicast
    /// socket still held of the time before; unicast records are compared with what
    /// multicast delivered for this long more.
    static let handoverOverlapMilliseconds: UInt64 = 2000
    static let handoverTailMilliseconds: UInt64 = 1000
    /// The kernel's rules and settings before nodeaudit changed them, for `cleanup`.
    private var kernelAtStart: KernelAuditState?
    private var loadedRules: WantedRules?
    private let configChanges = ConfigChangeRecorder()
    private var driftRepair: DriftRepair?
    private var health: HealthServer?
    /// Output drops and refusals already said on stderr.
    private var dropsReported: (dropped: UInt64, refused: UInt64) = (0, 0)

    /// `reload` reads the configuration again, as at start (file, environment, flags).
    public init(configuration: Configuration, reload: @escaping () throws -> Configuration) throws {
        let options = LiveOptions(configuration: configuration)
        self.options = options
        self.configuration = configuration
        self.reloadConfiguration = reload
        self.control = try AuditControl()
        var outputs: [(name: String, channel: any OutputChannel)] = []
        if options.stdout { outputs.append(("stdout", QueuedSink(FileDescriptorSink(), capacityBytes: options.outputQueueBytes))) }
        if let file = options.file {
            let sink = try RotatingFileSink(path: file.path, maxBytes: file.maxBytes, generations: file.generations)
            outputs.append(("file", QueuedSink(sink, capacityBytes: options.outputQueueBytes)))
        }
        if let syslog = options.syslog {
            let transport = SyslogTransport(host: syslog.host, port: syslog.port, protocol: syslog.transport,
                                            hostname: options.events.nodeName ?? "", tls: options.syslogTLS)
            outputs.append(("syslog", try SpooledSink(directory: options.spoolDirectory + "/syslog", maxBytes: options.spoolBytes,
                                                      transport: transport)))
        }
        if let http = options.http {
            guard let transport = HTTPTransport(url: http.url, format: http.format, index: http.index, headers: http.headers, tls: http.tls) else {
                throw SinkError("output.http: '\(http.url)' is not an http:// or https:// URL")
            }
            outputs.append(("http", try SpooledSink(directory: options.spoolDirectory + "/http", maxBytes: options.spoolBytes, transport: transport)))
        }
        self.output = OutputSet(outputs)
        self.pipeline = EventPipeline(options: options.events, sink: output, extraSteps: [configChanges])
    }

    /// Runs until SIGINT or SIGTERM; returns the process exit status.
    public func run() -> ExitStatus {
        ProcessSignals.install()
        do throws(StartFailure) {
            try start()
        } catch {
            diagnostics.error(error.description)
            stop()
            return error.status
        }
        let status = loop()
        stop()
        return status
    }

    // MARK: - Start

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
        /// A rule file that cannot be used is the operator's to fix (usage); anything
        /// else failed on this node.
        var status: ExitStatus = .failure
    }

    private func start() throws(StartFailure) {
        let status: AuditStatus
        do throws(KernelError) { status = try control.status() } catch { throw StartFailure(description: error.description) }
        lostAtStart = status.lost
        kernelLost = status.lost
        do throws(HostFile.Failure) {
            stateFile = try StreamStateFile(directory: options.stateDirectory)
        } catch {
            diagnostics.error("state directory: \(error); a gap between this run and the next will not be reported")
        }
        var handoverFrom: UInt32?
        if options.mode == .unicast, status.pid != 0, status.pid != UInt32(getpid()), Self.isAlive(status.pid) {
            let holder = "pid \(status.pid) (\(Self.command(of: status.pid)))"
            if !options.takeOver, Self.command(of: status.pid) == "nodeaudit" {
                handoverFrom = status.pid
            } else if !options.takeOver {
                throw StartFailure(description: """
                    the audit stream already goes to \(holder); the kernel lets only one audit daemon \
                    register. Stop it, run with --multicast to read beside it, or --take-over to replace it.
                    """)
            } else {
                try takeOver(from: status.pid, holder: holder)
            }
        }

        if options.cleanup {
            do throws(KernelError) { kernelAtStart = try .read(control) } catch { throw StartFailure(description: error.description) }
        }
        if options.applyRules {
            let wanted: WantedRules
            do throws(RuleLoadFailure) {
                wanted = try RuleFiles.wanted(options.ruleFiles, allowImmutable: false)
            } catch {
                throw StartFailure(description: "the rules cannot be used:\n" + error.description, status: .usage)
            }
            loadedRules = wanted
            let outcome = RulesRun(output: { self.diagnostics.notice("rules: \($0)") }).apply(options.ruleFiles, dryRun: false)
            if outcome == .failure { diagnostics.notice("some rules were refused by the kernel (above); running with the rest") }
        }
        excludeSelf()
        if let address = options.healthListen {
            let openFiles = ResourceLimits.raiseOpenFiles()
            do throws(HealthServer.ServerError) {
                var limits = HealthServer.Limits()
                limits.maxConnections = min(limits.maxConnections, Int(clamping: openFiles / 2))
                health = try HealthServer(listen: address, limits: limits)
                health?.start()
                diagnostics.notice("serving /healthz and /metrics on \(address)")
            } catch {
                throw StartFailure(description: error.description)
            }
        }
        if let loadedRules, options.driftCheckSeconds > 0 {
            driftRepair = DriftRepair(wanted: loadedRules, selfExclusion: selfExclusion, recorder: configChanges,
                                      node: options.events.nodeName)
        }

        do throws(KernelError) {
            let socket = try AuditEventSocket(mode: options.mode, receiveBufferBytes: options.receiveBufferBytes)
            self.socket = socket
            if let previous = handoverFrom {
                let multicast = try AuditEventSocket(mode: .multicast, receiveBufferBytes: options.receiveBufferBytes)
                handover = Handover(previousPID: previous, multicast: multicast)
                // The runs overlap: what the previous one wrote last, this one reads too.
                restartChecked = true
                diagnostics.notice("reading from the audit multicast group while pid \(previous) (nodeaudit) holds the audit stream; "
                    + "taking its place when it leaves (pid \(getpid()), receive buffer \(multicast.receiveBufferBytes) bytes)")
            } else {
                try socket.register()
                let mode = options.mode == .unicast ? "as the audit daemon" : "from the audit multicast group"
                diagnostics.notice("reading \(mode) (pid \(getpid()), receive buffer \(socket.receiveBufferBytes) bytes)")
            }
        } catch {
            throw StartFailure(description: error.description)
        }
    }

    /// The kernel never lets a second daemon replace a live one (EEXIST), so taking over
    /// means asking the holder to stop (SIGTERM) and waiting until it gave the pid back.
    private func takeOver(from pid: UInt32, holder: String) throws(StartFailure) {
        diagnostics.notice("--take-over: stopping \(holder), which holds the audit stream")
        kill(pid_t(pid), SIGTERM)
        for _ in 0..<100 {
            usleep(50_000)
            guard let now = try? control.status() else { continue }
            if now.pid == 0 || !Self.isAlive(now.pid) { return }
        }
        throw StartFailure(description: "\(holder) did not give the audit stream back within 5 s of SIGTERM")
    }

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

    // MARK: - Loop

    private func loop() -> ExitStatus {
        guard let socket else { return .failure }
        var lastStats = WallClock.nowMilliseconds()
        var lastDriftCheck = lastStats
        var lastPublished: UInt64 = 0
        var dropsReportedAt: UInt64 = 0
        var lastStatusRead: UInt64 = 0
        var lastFlush: UInt64 = 0
        var lastRead = 0
        while ProcessSignals.stopRequested == nil {
            // Records come one message each: while they flow thinly, let a few
            // milliseconds' worth gather before the next read, so a busy node costs one
            // wakeup per batch, not one per record (nor two: the poll below then returns
            // at once). An idle node sleeps in poll until the first record.
            if lastRead > 0, lastRead < Self.batchMessages { usleep(Self.gatherMicroseconds) }
            var pollers = [pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)]
            if let multicast = handover?.multicast { pollers.append(pollfd(fd: multicast.descriptor, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&pollers, nfds_t(pollers.count), 100)
            if ready < 0, errno != EINTR {
                diagnostics.error("waiting for audit records: \(SystemError.current)")
                return .failure
            }
            do throws(LoopFailure) {
                lastRead = try readAvailable(socket, deduplicating: handover?.registeredAt != nil)
                if handover != nil { lastRead += try readHandover() }
                let now = WallClock.nowMilliseconds()
                // Events go to the outputs every few milliseconds, not after every read.
                if now - lastFlush >= Self.flushMilliseconds {
                    lastFlush = now
                    do throws(SinkError) {
                        try pipeline.closeExpired(nowMilliseconds: now)
                        try pipeline.flush()
                        if !restartChecked, pipeline.firstSerial != nil { try reportRestartGap() }
                    } catch {
                        throw .output(error)
                    }
                    saveState(now: now)
                }
                if let health {
                    let metricsDue = now - lastPublished >= 1000
                    if metricsDue { lastPublished = now }
                    health.publish(nowMilliseconds: now, metrics: metricsDue ? statistics().prometheus : nil)
                }
                if now - lastStatusRead >= 1000 {
                    lastStatusRead = now
                    if let status = try? control.status() { kernelLost = status.lost }
                }
                if now - dropsReportedAt >= 10_000 {
                    dropsReported = reportDrops(since: dropsReported)
                    dropsReportedAt = now
                }
                if let driftRepair, !awaitingHandover, options.driftCheckSeconds > 0,
                   now - lastDriftCheck >= UInt64(options.driftCheckSeconds * 1000) {
                    lastDriftCheck = now
                    try repairDrift(driftRepair, socket: socket)
                }
                if ProcessSignals.reloadCount != reloadsHandled {
                    reloadsHandled = ProcessSignals.reloadCount
                    reload()
                }
                if ProcessSignals.counterRequestCount != counterRequestsHandled {
                    counterRequestsHandled = ProcessSignals.counterRequestCount
                    diagnostics.notice("stats: " + statistics().line)
                }
                let statsInterval = UInt64(options.statsIntervalSeconds * 1000)
                if statsInterval > 0, now - lastStats >= statsInterval {
                    lastStats = now
                    diagnostics.notice("stats: " + statistics().line)
                }
            } catch {
                diagnostics.error(error.description)
                return .failure
            }
        }
        return .success
    }

    /// A read of fewer messages than this waits `gatherMicroseconds` before the next one.
    static let batchMessages = 64
    static let gatherMicroseconds: UInt32 = 5000
    /// The most an event waits in nodeaudit after its last record, in milliseconds.
    static let flushMilliseconds: UInt64 = 50

    private enum LoopFailure: Error, CustomStringConvertible {
        case kernel(KernelError)
        case output(SinkError)

        var description: String {
            switch self {
            case .kernel(let error): return error.description
            case .output(let error): return error.description
            }
        }

    }

    /// Says on stderr when outputs dropped events, or collectors refused them for good,
    /// since the last report (at most every 10 s): the counters alone would be noticed
    /// too late. Returns the new totals.
    private func reportDrops(since reported: (dropped: UInt64, refused: UInt64)) -> (dropped: UInt64, refused: UInt64) {
        let counters = output.outputs.map { ($0.name, $0.channel.counters) }
        let dropped = counters.reduce(0) { $0 + $1.1.droppedEvents }
        if dropped > reported.dropped {
            let which = counters.filter { $0.1.droppedEvents > 0 }.map { "\($0.0): \($0.1.droppedEvents)" }.joined(separator: ", ")
            diagnostics.error("\(dropped - reported.dropped) events dropped because an output's queue or spool was full (in all: \(which))")
        }
        let refused = counters.reduce(0) { $0 + $1.1.refusedEvents }
        if refused > reported.refused {
            for (name, counters) in counters where counters.refusedEvents > 0 {
                diagnostics.error("\(name): \(counters.refusedEvents) events refused for good in all, kept in the dead-letter file; last: \(counters.lastRefusal)")
            }
        }
        return (dropped, refused)
    }

    /// Puts back what someone changed in the kernel's audit configuration, and writes
    /// the drift event (after the events read so far, so the CONFIG_CHANGE events that
    /// explain it come first).
    private func repairDrift(_ repair: DriftRepair, socket: AuditEventSocket) throws(LoopFailure) {
        let report: DriftReport?
        do throws(KernelError) {
            report = try repair.check(control, unicast: options.mode == .unicast) { () throws(KernelError) in try socket.register() }
        } catch {
            diagnostics.error("drift check: \(error)")
            return
        }
        guard let report else { return }
        diagnostics.notice("drift repaired: \(report.restoredRules.count) rules and \(report.restoredSettings.count) settings restored"
            + (report.failures.isEmpty ? "" : ", \(report.failures.count) refused")
            + (report.auditPidTakenBy.map { "; the audit stream now goes to pid \($0)" } ?? ""))
        var writer = JSONWriter(capacity: 4096)
        report.encode(into: &writer)
        do throws(SinkError) {
            try pipeline.flush()
            try output.write(writer.buffer)
        } catch {
            throw .output(error)
        }
    }

    /// Hands every waiting record to the pipeline; `deduplicating`, without the records
    /// already read on the other socket of a hand-over.
    @discardableResult
    private func readAvailable(_ socket: AuditEventSocket, deduplicating: Bool = false) throws(LoopFailure) -> Int {
        var sinkFailure: SinkError?
        let count: Int
        do throws(KernelError) {
            count = try socket.drain { type, payload in
                if deduplicating, handover?.deduplicator.isNew(type: type, payload: payload) == false { return }
                do throws(RecordParseError) {
                    let record = try RecordParser.parseNetlink(type: type, payload: payload)
                    if sinkFailure == nil {
                        do throws(SinkError) { try pipeline.add(record) } catch { sinkFailure = error }
                    }
                } catch {
                    pipeline.countMalformed()
                    diagnostics.inputProblem("netlink type \(type)", error.description)
                }
            }
        } catch {
            throw .kernel(error)
        }
        if let sinkFailure { throw .output(sinkFailure) }
        pipeline.countInput(lines: UInt64(count))
        return count
    }

    // MARK: - Reload

    /// SIGHUP: reopens the output file, reads the user databases and the configuration
    /// again, and loads the rule files anew. What fails keeps what was in force, and says
    /// why; settings that only a start can change are named.
    private func reload() {
        diagnostics.notice("reload (SIGHUP)")
        RotatingFileSink.requestReopen()
        pipeline.reloadEnrichers()
        do {
            let new = try reloadConfiguration()
            let changed = Setting.all.filter { new[$0] != configuration[$0] }
            let live: Set<Setting> = [.ruleFiles, .driftCheck, .statsInterval]
            let later = changed.filter { !live.contains($0) }.map(\.key)
            if !later.isEmpty {
                diagnostics.notice("reload: \(later.joined(separator: ", ")) changed; in force from the next start")
            }
            let reloaded = LiveOptions(configuration: new)
            configuration = new
            options.ruleFiles = reloaded.ruleFiles
            options.driftCheckSeconds = reloaded.driftCheckSeconds
            options.statsIntervalSeconds = reloaded.statsIntervalSeconds
        } catch {
            diagnostics.error("reload: the configuration is refused, the running one stays: \(error)")
        }
        reloadRules()
    }

    /// Loads the rule files again: what they add is applied, and drift repair keeps the
    /// new set. A file with errors keeps the previous rules.
    private func reloadRules() {
        guard options.applyRules else { return }
        let wanted: WantedRules
        do throws(RuleLoadFailure) {
            wanted = try RuleFiles.wanted(options.ruleFiles, allowImmutable: false)
        } catch {
            diagnostics.error("reload: the rules are refused, the loaded ones stay:\n\(error)")
            return
        }
        _ = RulesRun(output: { self.diagnostics.notice("rules: \($0)") }).apply(options.ruleFiles, dryRun: false)
        loadedRules = wanted
        driftRepair?.wanted = wanted
    }

    // MARK: - Hand-over

    /// Whether this run still waits for the previous one to leave the audit stream.
    private var awaitingHandover: Bool { handover != nil && handover?.registeredAt == nil }
    private var nextHandoverCheck: UInt64 = 0

    /// Reads the multicast copy; registers once the previous run has left the stream;
    /// ends the hand-over after the overlap. Returns the records read.
    private func readHandover() throws(LoopFailure) -> Int {
        guard let current = handover, let socket else { return 0 }
        let read = try current.multicast.map { (multicast) throws(LoopFailure) in
            try readAvailable(multicast, deduplicating: current.registeredAt != nil)
        } ?? 0
        let now = MonotonicClock.nowMilliseconds()
        if let registeredAt = current.registeredAt {
            if current.multicast != nil, now - registeredAt >= Self.handoverOverlapMilliseconds {
                handover?.multicast = nil
            } else if now - registeredAt >= Self.handoverOverlapMilliseconds + Self.handoverTailMilliseconds {
                diagnostics.notice("hand-over complete: reading as the audit daemon only "
                    + "(\(current.deduplicator.duplicates) records read on both sockets were written once)")
                handover = nil
            }
        } else if now >= nextHandoverCheck {
            nextHandoverCheck = now + 100
            guard let status = try? control.status(), status.pid == 0 || !Self.isAlive(status.pid) else { return read }
            do throws(KernelError) {
                try socket.register()
                handover?.registeredAt = now
                diagnostics.notice("pid \(current.previousPID) (nodeaudit) left the audit stream: reading as the audit daemon")
            } catch {
                // Someone else was quicker, or the previous run is still being cleared: try again.
                if error.errno != EEXIST { diagnostics.error("taking over the audit stream: \(error)") }
            }
        }
        return read
    }

    // MARK: - Stop

    /// Reads what the kernel had sent before the stop request, gives the audit pid back,
    /// emits every event in flight, removes the self-exclusion (and, with cleanup, the
    /// loaded rules and changed settings), and writes the final statistics.
    private func stop() {
        if let socket {
            drainBeforeStop(socket)
            socket.unregister()
            _ = try? readAvailable(socket, deduplicating: handover?.registeredAt != nil)
        }
        if let handover, let multicast = handover.multicast {
            _ = try? readAvailable(multicast, deduplicating: handover.registeredAt != nil)
        }
        do throws(SinkError) {
            try pipeline.finish()
            if !restartChecked, pipeline.firstSerial != nil { try reportRestartGap() }
        } catch {
            diagnostics.error(error.description)
        }
        if let status = try? control.status() { kernelLost = status.lost }
        saveState(now: WallClock.nowMilliseconds())
        let stuck = output.close(timeoutMilliseconds: 5_000)
        if !stuck.isEmpty {
            diagnostics.error("\(stuck.joined(separator: ", ")) did not take every event within 5 s; "
                + "\(output.counters.pendingBytes) bytes of events are left (a spool keeps them for the next start)")
        }
        dropsReported = reportDrops(since: dropsReported)
        if let selfExclusion { try? control.delete(selfExclusion.data) }
        if options.cleanup { cleanUp() }
        diagnostics.notice("final: " + statistics().line)
        socket = nil
    }

    /// The kernel delivers in order, so once a record stamped after the stop request has
    /// arrived, everything logged before it has too. On a quiet system that record never
    /// comes: then the stream going quiet for 150 ms ends the wait; 3 s bound it.
    private func drainBeforeStop(_ socket: AuditEventSocket) {
        let stopTime = WallClock.nowMilliseconds()
        let deadline = stopTime + 3000
        var quietRounds = 0
        while quietRounds < 3, WallClock.nowMilliseconds() < deadline, pipeline.newestRecordMilliseconds <= stopTime {
            var poller = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&poller, 1, 50)
            let read = (try? readAvailable(socket)) ?? 0
            quietRounds = read == 0 ? quietRounds + 1 : 0
        }
    }

    /// Leaves the kernel's rules and settings as they were before this run.
    private func cleanUp() {
        guard let kernelAtStart else { return }
        let (changes, failures) = kernelAtStart.restore(control)
        changes.forEach { diagnostics.notice("cleanup: \($0)") }
        failures.forEach { diagnostics.error("cleanup: \($0)") }
    }

    // MARK: - Between runs

    /// Writes what the next run compares with: the highest serial handed to the outputs.
    private func saveState(now: UInt64) {
        guard let stateFile, pipeline.highestSerialWritten > 0 else { return }
        stateFile.write(StreamState(boot: boot, highestSerialWritten: pipeline.highestSerialWritten, kernelLost: kernelLost,
                                    epochMilliseconds: now))
    }

    /// Once the first record has come: says (as an event, a counter and on stderr) what
    /// the kernel logged between the previous run's last event and this run's first.
    private func reportRestartGap() throws(SinkError) {
        restartChecked = true
        guard let previous = stateFile?.previous, previous.boot == boot, let first = pipeline.firstSerial else { return }
        let report = RestartGapReport(
            epochMilliseconds: WallClock.nowMilliseconds(), node: options.events.nodeName, previousSerial: previous.highestSerialWritten,
            firstSerial: first, kernelLostRecords: UInt64(lostAtStart >= previous.kernelLost ? lostAtStart - previous.kernelLost : 0),
            previousStoppedMilliseconds: previous.epochMilliseconds)
        restartMissing = report.missingEvents
        guard report.missingEvents > 0 || report.kernelLostRecords > 0 else { return }
        diagnostics.error("since the previous run (last event serial \(report.previousSerial)): \(report.missingEvents) events "
            + "were never read (first serial now \(first)); the kernel lost \(report.kernelLostRecords) records meanwhile")
        var writer = JSONWriter(capacity: 512)
        report.encode(into: &writer)
        try output.write(writer.buffer)
    }

    // MARK: - Statistics

    private func statistics() -> CollectorStatistics {
        let status = try? control.status()
        return CollectorStatistics(
            pipeline: pipeline.snapshot(), inFlight: pipeline.eventsInFlight,
            kernelLost: status.map { UInt64($0.lost >= lostAtStart ? $0.lost - lostAtStart : $0.lost) },
            backlog: status.map { UInt64($0.backlog) }, overflows: socket?.counters.overflows ?? 0,
            outputs: output.outputs.map { ($0.name, $0.channel.counters) },
            driftRepairs: driftRepair?.repairs ?? 0, restartMissing: restartMissing)
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
