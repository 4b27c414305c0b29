import HostIO
import AuditKernel
import AuditRecords
import AuditRules
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
    private let options: LiveOptions
    private let diagnostics = Diagnostics()
    private let pipeline: EventPipeline
    private let output: OutputSet
    private let control: AuditControl
    private var socket: AuditEventSocket?
    private var selfExclusion: EncodedRule?
    private var lostAtStart: UInt32 = 0
    /// The kernel's rules and settings before nodeaudit changed them, for `cleanup`.
    private var kernelAtStart: KernelAuditState?
    private var loadedRules: WantedRules?
    private let configChanges = ConfigChangeRecorder()
    private var driftRepair: DriftRepair?
    private var health: HealthServer?

    public init(options: LiveOptions) throws {
        self.options = options
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
    public func run() -> Int32 {
        ShutdownSignal.install()
        do throws(StartFailure) {
            try start()
        } catch {
            diagnostics.error(error.description)
            stop()
            return 2
        }
        let status = loop()
        stop()
        return status
    }

    // MARK: - Start

    struct StartFailure: Error, CustomStringConvertible {
        var description: String
    }

    private func start() throws(StartFailure) {
        let status: AuditStatus
        do throws(KernelError) { status = try control.status() } catch { throw StartFailure(description: error.description) }
        lostAtStart = status.lost
        if options.mode == .unicast, status.pid != 0, status.pid != UInt32(getpid()), Self.isAlive(status.pid) {
            let holder = "pid \(status.pid) (\(Self.command(of: status.pid)))"
            guard options.takeOver else {
                throw StartFailure(description: """
                    the audit stream already goes to \(holder); the kernel lets only one audit daemon \
                    register. Stop it, run with --multicast to read beside it, or --take-over to replace it.
                    """)
            }
            try takeOver(from: status.pid, holder: holder)
        }

        if options.cleanup {
            do throws(KernelError) { kernelAtStart = try .read(control) } catch { throw StartFailure(description: error.description) }
        }
        if options.applyRules {
            let wanted: WantedRules
            do throws(RuleLoadFailure) {
                wanted = try RuleFiles.wanted(options.ruleFiles, allowImmutable: false)
            } catch {
                throw StartFailure(description: "the rules cannot be used:\n" + error.description)
            }
            loadedRules = wanted
            let outcome = RulesRun(output: { self.diagnostics.notice("rules: \($0)") }).apply(options.ruleFiles, dryRun: false)
            if outcome == .failed { diagnostics.notice("some rules were refused by the kernel (above); running with the rest") }
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
            try socket.register()
            let mode = options.mode == .unicast ? "as the audit daemon" : "from the audit multicast group"
            diagnostics.notice("reading \(mode) (pid \(getpid()), receive buffer \(socket.receiveBufferBytes) bytes)")
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

    private func loop() -> Int32 {
        guard let socket else { return 2 }
        var lastStats = WallClock.nowMilliseconds()
        var lastDriftCheck = lastStats
        var lastPublished: UInt64 = 0
        var dropsReported: UInt64 = 0
        var dropsReportedAt: UInt64 = 0
        let statsInterval = UInt64(options.statsIntervalSeconds * 1000)
        let driftInterval = UInt64(options.driftCheckSeconds * 1000)
        var lastFlush: UInt64 = 0
        var lastRead = 0
        while ShutdownSignal.requested == nil {
            // Records come one message each: while they flow thinly, let a few
            // milliseconds' worth gather before the next read, so a busy node costs one
            // wakeup per batch, not one per record (nor two: the poll below then returns
            // at once). An idle node sleeps in poll until the first record.
            if lastRead > 0, lastRead < Self.batchMessages { usleep(Self.gatherMicroseconds) }
            var poller = pollfd(fd: socket.descriptor, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 100)
            if ready < 0, errno != EINTR {
                diagnostics.error("waiting for audit records: \(String(cString: strerror(errno)))")
                return 2
            }
            do throws(LoopFailure) {
                lastRead = try readAvailable(socket)
                let now = WallClock.nowMilliseconds()
                // Events go to the outputs every few milliseconds, not after every read.
                if now - lastFlush >= Self.flushMilliseconds {
                    lastFlush = now
                    do throws(SinkError) {
                        try pipeline.closeExpired(nowMilliseconds: now)
                        try pipeline.flush()
                    } catch {
                        throw .output(error)
                    }
                }
                if let health {
                    let metricsDue = now - lastPublished >= 1000
                    if metricsDue { lastPublished = now }
                    health.publish(nowMilliseconds: now, metrics: metricsDue ? statistics().prometheus : nil)
                }
                if now - dropsReportedAt >= 10_000 {
                    dropsReported = reportDrops(since: dropsReported)
                    dropsReportedAt = now
                }
                if let driftRepair, now - lastDriftCheck >= driftInterval {
                    lastDriftCheck = now
                    try repairDrift(driftRepair, socket: socket)
                }
                if statsInterval > 0, now - lastStats >= statsInterval {
                    lastStats = now
                    diagnostics.notice("stats: " + statistics().line)
                }
            } catch {
                diagnostics.error(error.description)
                return error.isOutput ? 1 : 2
            }
        }
        return 0
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

        var isOutput: Bool { if case .output = self { return true } else { return false } }
    }

    /// Says on stderr when outputs dropped events since the last report (at most every
    /// 10 s): the counters alone would be noticed too late. Returns the new total.
    private func reportDrops(since reported: UInt64) -> UInt64 {
        let outputs = output.outputs.map { ($0.name, $0.channel.counters.droppedEvents) }
        let total = outputs.reduce(0) { $0 + $1.1 }
        if total > reported {
            let which = outputs.filter { $0.1 > 0 }.map { "\($0.0): \($0.1)" }.joined(separator: ", ")
            diagnostics.error("\(total - reported) events dropped because an output's queue or spool was full (in all: \(which))")
        }
        return total
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

    /// Hands every waiting record to the pipeline.
    @discardableResult
    private func readAvailable(_ socket: AuditEventSocket) throws(LoopFailure) -> Int {
        var sinkFailure: SinkError?
        let count: Int
        do throws(KernelError) {
            count = try socket.drain { type, payload in
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

    // MARK: - Stop

    /// Reads what the kernel had sent before the stop request, gives the audit pid back,
    /// emits every event in flight, removes the self-exclusion (and, with cleanup, the
    /// loaded rules and changed settings), and writes the final statistics.
    private func stop() {
        if let socket {
            drainBeforeStop(socket)
            socket.unregister()
            _ = try? readAvailable(socket)
        }
        do throws(SinkError) { try pipeline.finish() } catch { diagnostics.error(error.description) }
        let stuck = output.close(timeoutMilliseconds: 5_000)
        if !stuck.isEmpty {
            diagnostics.error("\(stuck.joined(separator: ", ")) did not take every event within 5 s; "
                + "\(output.counters.pendingBytes) bytes of events are left (a spool keeps them for the next start)")
        }
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

    // MARK: - Statistics

    private func statistics() -> CollectorStatistics {
        let status = try? control.status()
        return CollectorStatistics(
            pipeline: pipeline.snapshot(), inFlight: pipeline.eventsInFlight,
            kernelLost: status.map { UInt64($0.lost >= lostAtStart ? $0.lost - lostAtStart : $0.lost) },
            backlog: status.map { UInt64($0.backlog) }, overflows: socket?.counters.overflows ?? 0,
            outputs: output.outputs.map { ($0.name, $0.channel.counters) },
            driftRepairs: driftRepair?.repairs ?? 0)
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
