import Health
import RuleSync
import OwnEvents
import Pipeline
import Sigma
import AuditKernel
import AuditRecords
import AuditRules
import Configuration
import HostIO
import Output
import KubernetesAuditInput
#if canImport(Glibc)
import Glibc
#endif

/// `nodeaudit run`: loads the rules, reads the kernel's audit stream, and writes each
/// event to its outputs as soon as it is complete. Its own messages go to stderr.
///
/// A composition of named parts: the outputs (`OutputSet.live`), the kernel session (the
/// daemon role, take-over and hand-over, self-exclusion, cleanup), the pipeline, the
/// continuity between runs, drift repair, the health server, and a `Ticker` for the
/// periodic work of the read loop.
///
/// Loss is counted from every side: the kernel's `lost` counter (polled on a second
/// socket), gaps in event serials, overflows of the receive buffer, and the gap since
/// the previous run.
package final class LiveCollector {
    private var options: LiveOptions
    /// The configuration in force, and how to read it again (SIGHUP).
    private var configuration: Configuration
    private let reloadConfiguration: () throws -> Configuration
    private let diagnostics = Diagnostics()
    private let output: OutputSet
    private let configChanges = ConfigChangeRecorder()
    private let pipeline: EventPipeline
    private var session: KernelSession?
    /// Reads the stamps of the records the session delivers (on the reading thread only:
    /// the run-time exclusivity checks, three per event, are left out).
    @exclusivity(unchecked) private var stamps = StampReader()
    private var continuity: StreamContinuity?
    private var driftRepair: DriftRepair?
    /// Plans and makes rule changes, sharing the kernel with other tools (start, reload,
    /// drift repair).
    private var rules: RuleSync
    private var ruleFileWatch: RuleFileWatch?
    /// The Sigma rule files' watch, and the refusals of the rules in force: a change that
    /// refuses more keeps those rules.
    private var sigmaWatch: RuleFileWatch?
    private var sigmaRefusals: Set<String> = []
    /// With --cleanup: the ownership record as the run found it, put back at exit.
    private var ownershipAtStart: RuleOwnership.Snapshot?
    private var health: HealthServer?
    private var reloadsHandled = ProcessSignals.reloadCount
    private var counterRequestsHandled = ProcessSignals.counterRequestCount
    /// Output failures at stop, when nothing can end the run any more: said and counted.
    private var outputFailuresAtStop: UInt64 = 0
    /// Saves the stream state when an output's thread delivered.
    private let settledStateSaver: SettledStateSaver
    /// The API server's audit stream and the join to exec sessions, when configured.
    private let kubernetesAudit: KubernetesAuditIntake?
    /// Output drops and refusals already said on stderr.
    private var dropsReported: (dropped: UInt64, refused: UInt64) = (0, 0)

    /// The most an event waits in nodeaudit after its last record, in milliseconds.
    package static let flushMilliseconds: UInt64 = 50
    /// How often the rule files are looked at for changes (a ConfigMap update).
    package static let ruleFileWatchMilliseconds: UInt64 = 1000
    /// How often /metrics' counters and the kernel's lost counter are taken.
    package static let metricsMilliseconds: UInt64 = 1000
    package static let kernelStatusMilliseconds: UInt64 = 1000
    /// How often what the outputs dropped or the collectors refused is said on stderr.
    package static let dropReportMilliseconds: UInt64 = 10_000
    /// At stop, how long the read loop waits for what the kernel logged before the signal:
    /// until `stopQuietRounds` waits of `stopWaitMilliseconds` read nothing, at most
    /// `stopDeadlineMilliseconds`.
    package static let stopWaitMilliseconds: Int32 = 50
    package static let stopQuietRounds = 3
    package static let stopDeadlineMilliseconds: UInt64 = 3000

    /// `reload` reads the configuration again, as at start (file, environment, flags).
    package init(configuration: Configuration, reload: @escaping () throws -> Configuration) throws {
        options = LiveOptions(configuration: configuration)
        self.configuration = configuration
        reloadConfiguration = reload
        let saver = SettledStateSaver()
        settledStateSaver = saver
        output = try OutputSet.live(options, onSettled: { saver.delivered() })
        // Rule changes are notices on stderr: stdout carries the events.
        let notices = Diagnostics()
        rules = RuleSync(stateDirectory: options.stateDirectory, sharesKernel: true, hostRoot: options.hostRoot, diagnostics: diagnostics,
                         output: { notices.notice("rules: \($0)") })
        if options.cleanup { ownershipAtStart = RuleOwnership.Snapshot(directory: options.stateDirectory) }
        var detector: SigmaDetector?
        if !options.events.sigmaPaths.isEmpty {
            let set = EventOptions.loadSigma(options.events.sigmaPaths, diagnostics: diagnostics)
            detector = SigmaDetector(rules: set.rules, correlations: set.correlations)
            sigmaRefusals = set.problems
            sigmaWatch = RuleFileWatch(paths: options.events.sigmaPaths, expand: SigmaRuleSet.files)
        }
        do throws(APIAuditWebhook.ServerError) {
            kubernetesAudit = try options.kubernetesAudit.map { [output] (settings) throws(APIAuditWebhook.ServerError) in
                try KubernetesAuditIntake(settings, settledWrites: { output.settledWrites })
            }
        } catch {
            _ = output.close(timeoutMilliseconds: 0)
            throw error
        }
        pipeline = EventPipeline(options: options.events, sink: output, extraSteps: [configChanges] + (kubernetesAudit.map { [$0.join] } ?? []),
                                 detector: detector)
    }

    /// How a run ended, for the command's exit status.
    package enum Outcome: Sendable, Equatable {
        /// Stopped by SIGINT or SIGTERM, everything written.
        case stopped
        /// Something failed on this node: the kernel, an output, another audit daemon.
        case failed
        /// The rule files cannot be used; nothing was changed.
        case badInput
    }

    /// Runs until SIGINT or SIGTERM.
    package func run() -> Outcome {
        ProcessSignals.install()
        do throws(KernelSession.StartError) {
            try start()
        } catch {
            diagnostics.error(error.description)
            stop()
            return error.isBadInput ? .badInput : .failed
        }
        let status = loop()
        stop()
        return status
    }

    // MARK: - Start

    private func start() throws(KernelSession.StartError) {
        let session = try KernelSession(options: options, diagnostics: diagnostics)
        self.session = session
        let continuity = StreamContinuity(directory: options.stateDirectory, lostAtStart: session.lostAtStart, node: options.events.nodeName,
                                          overlapping: session.isHandedOver, diagnostics: diagnostics)
        self.continuity = continuity
        settledStateSaver.set { [serials = pipeline.writes, output, savePosition = kubernetesAudit?.saveSettled] in
            continuity.save(now: WallClock.nowMilliseconds()) { serials.highestSerial(settledWrites: output.settledWrites) }
            savePosition?(output.settledWrites)
        }
        var wanted: WantedRules?
        if options.applyRules {
            do throws(RuleLoadError) {
                wanted = try wantedRules()
            } catch {
                throw KernelSession.StartError(description: "the rules cannot be used:\n" + error.description, isBadInput: true)
            }
            if let wanted, rules.apply(wanted).outcome == .failed {
                diagnostics.notice("some rules were refused (above); running with the rest")
            }
        }
        try session.open()
        if options.healthListen != nil || options.healthSocket != nil {
            let openFiles = ResourceLimits.raiseOpenFiles()
            do throws(HealthServer.ServerError) {
                var limits = HealthServer.Limits()
                limits.maxConnections = min(limits.maxConnections, Int(clamping: openFiles / 2))
                let server = try HealthServer(listen: options.healthListen, socketPath: options.healthSocket, limits: limits)
                health = server
                server.start()
                let places = [options.healthListen, options.healthSocket].compactMap { $0 }.joined(separator: " and ")
                diagnostics.notice("serving /healthz and /metrics on \(places)")
                if server.waitingForPort, let address = options.healthListen {
                    diagnostics.notice("\(address) is held by another process (the previous nodeaudit, in a hand-over): "
                                       + "listening there once it is free; \(options.healthSocket ?? "no unix socket") answers meanwhile")
                }
            } catch {
                throw KernelSession.StartError(description: error.description)
            }
        }
        if let kubernetesAudit {
            kubernetesAudit.start()
            if let file = options.kubernetesAudit?.file { diagnostics.notice("following the API server's audit log \(file)") }
            if let webhook = options.kubernetesAudit?.webhook { diagnostics.notice("serving the API server's audit webhook on \(webhook.listen.text)") }
        }
        if let wanted {
            rules.leading = session.selfExclusion
            driftRepair = DriftRepair(wanted: wanted, rules: rules, recorder: configChanges, node: options.events.nodeName)
            ruleFileWatch = RuleFileWatch(paths: options.ruleFiles)
        }
    }

    // MARK: - Loop

    private enum LoopError: Error, CustomStringConvertible {
        case kernel(KernelError)
        case output(SinkError)

        package var description: String {
            switch self {
            case .kernel(let error): return error.description
            case .output(let error): return error.description
            }
        }
    }

    private func loop() -> Outcome {
        guard let session else { return .failed }
        var ticker = Ticker(now: WallClock.nowMilliseconds(), firstAfterOneInterval: [.driftCheck, .statistics])
        var pacing = ReadPacing(receiveBufferBytes: Int(options.receiveBufferBytes), nowMilliseconds: MonotonicClock.nowMilliseconds())
        var lastRead = (records: 0, emptied: true)
        while ProcessSignals.stopRequested == nil {
            // One wakeup per batch of records, not one per record (an idle node sleeps in
            // the wait below until the first record).
            let pause = pacing.pause(afterReading: lastRead.records, emptied: lastRead.emptied,
                                     nowMilliseconds: MonotonicClock.nowMilliseconds())
            if pause > 0 { usleep(pause) }
            guard session.waitForRecords(milliseconds: 100) else {
                diagnostics.error("waiting for audit records: \(SystemError.current)")
                return .failed
            }
            do throws(LoopError) {
                lastRead = try readAvailable()
                try periodicWork(&ticker, now: WallClock.nowMilliseconds(), caughtUp: lastRead.emptied)
            } catch {
                diagnostics.error(error.description)
                return .failed
            }
        }
        return .stopped
    }

    /// Everything the loop does besides reading, each when its turn has come.
    /// `caughtUp`: the last read left no record waiting.
    private func periodicWork(_ ticker: inout Ticker, now: UInt64, caughtUp: Bool) throws(LoopError) {
        // Events go to the outputs every few milliseconds, not after every read.
        if ticker.isDue(.flush, every: Self.flushMilliseconds, now: now) {
            do throws(SinkError) {
                // Behind the stream, the rest of an open event may be among the records
                // still waiting: events are aged by the clock only once they are all read
                // (until then, newer records age them by their stamps).
                if caughtUp { try pipeline.closeExpired(nowMilliseconds: now) }
                try deliverKubernetesAudit(now: now)
                try pipeline.flush()
                try reportRestartGapOnce()
            } catch {
                throw .output(error)
            }
            // A spool settles as it is written; queues also save as they deliver.
            saveStreamState(now: now)
        }
        if let health {
            let metricsDue = ticker.isDue(.metrics, every: Self.metricsMilliseconds, now: now)
            health.publish(nowMilliseconds: now, metrics: metricsDue ? statistics().prometheus : nil)
        }
        if ticker.isDue(.kernelStatus, every: Self.kernelStatusMilliseconds, now: now), let status = try? session?.control.status() {
            continuity?.setKernelLost(status.lost)
        }
        if ticker.isDue(.dropReport, every: Self.dropReportMilliseconds, now: now) { reportDrops() }
        if let driftRepair, session?.awaitingHandover == false,
           ticker.isDue(.driftCheck, every: UInt64(options.driftCheckSeconds * 1000), now: now) {
            try repairDrift(driftRepair)
        }
        if ProcessSignals.reloadCount != reloadsHandled {
            reloadsHandled = ProcessSignals.reloadCount
            try reload()
        } else if ticker.isDue(.ruleFileWatch, every: Self.ruleFileWatchMilliseconds, now: now), ruleFileWatch?.changed() == true {
            diagnostics.notice("the rule files changed")
            try reloadRules(trigger: "files")
        }
        if ticker.isDue(.sigmaWatch, every: Self.ruleFileWatchMilliseconds, now: now), sigmaWatch?.changed() == true {
            reloadSigma()
        }
        if ProcessSignals.counterRequestCount != counterRequestsHandled {
            counterRequestsHandled = ProcessSignals.counterRequestCount
            diagnostics.notice("stats: " + statistics().line)
        }
        if ticker.isDue(.statistics, every: UInt64(options.statsIntervalSeconds * 1000), now: now) {
            diagnostics.notice("stats: " + statistics().line)
        }
    }

    /// Hands the waiting records, up to the session's bound, to the pipeline; says whether
    /// any were left.
    private func readAvailable() throws(LoopError) -> (records: Int, emptied: Bool) {
        guard let session else { return (0, true) }
        let read: (records: Int, emptied: Bool)
        do throws(StreamReadError<SinkError>) {
            read = try session.read(addRecord)
        } catch {
            switch error {
            case .kernel(let failure): throw .kernel(failure)
            case .consumer(let failure): throw .output(failure)
            }
        }
        pipeline.countInput(lines: UInt64(read.records))
        return read
    }

    /// Parses one record into the pipeline; an EOE, which carries only its stamp, closes
    /// its event without becoming a record.
    private func addRecord(_ type: UInt16, _ payload: UnsafeRawBufferPointer) throws(SinkError) {
        if UInt32(type) == RecordType.endOfEvent.number {
            if let stamp = parsed(type, { () throws(RecordParseError) in try RecordParser.parseEndOfEvent(payload: payload, stamps: &stamps) }) {
                try pipeline.endOfEvent(stamp)
            }
        } else if let record = parsed(type, { () throws(RecordParseError) in try RecordParser.parseNetlink(type: type, payload: payload, stamps: &stamps) }) {
            try pipeline.add(record)
        }
    }

    /// What `parse` made of a message, or nil for one that is no record: counted and said.
    private func parsed<Parsed>(_ type: UInt16, _ parse: () throws(RecordParseError) -> Parsed) -> Parsed? {
        do throws(RecordParseError) {
            return try parse()
        } catch {
            pipeline.countMalformed()
            diagnostics.inputProblem("netlink type \(type)", error.description)
            return nil
        }
    }

    /// Says on stderr when outputs dropped events, or collectors refused them for good,
    /// since the last report: the counters alone would be noticed too late.
    private func reportDrops() {
        let counters = output.outputs.map { ($0.name, $0.channel.counters) }
        let dropped = counters.reduce(0) { $0 + $1.1.droppedEvents }
        if dropped > dropsReported.dropped {
            let which = counters.filter { $0.1.droppedEvents > 0 }.map { "\($0.0): \($0.1.droppedEvents)" }.joined(separator: ", ")
            diagnostics.error("\(dropped - dropsReported.dropped) events dropped because an output's queue or spool was full (in all: \(which))")
        }
        let refused = counters.reduce(0) { $0 + $1.1.refusedEvents }
        if refused > dropsReported.refused {
            for (name, counters) in counters where counters.refusedEvents > 0 {
                diagnostics.error("\(name): \(counters.refusedEvents) events refused for good in all, kept in the dead-letter file; last: \(counters.lastRefusal)")
            }
        }
        dropsReported = (dropped, refused)
    }

    /// Puts back what someone changed in the kernel's audit configuration, and writes
    /// the drift event (after the events read so far, so the CONFIG_CHANGE events that
    /// explain it come first).
    private func repairDrift(_ repair: DriftRepair) throws(LoopError) {
        guard let session else { return }
        let report: DriftReport?
        do throws(KernelError) {
            report = try repair.check(session.control, unicast: options.mode == .unicast) { () throws(KernelError) in try session.register() }
        } catch {
            diagnostics.error("drift check: \(error)")
            return
        }
        guard let report else { return }
        diagnostics.notice("drift repaired: \(report.restoredRules.count) rules and \(report.restoredSettings.count) settings restored"
            + (report.failures.isEmpty ? "" : ", \(report.failures.count) refused")
            + (report.auditPidTakenBy.map { "; the audit stream now goes to pid \($0)" } ?? ""))
        try writeOwnEvent(report.encode)
    }

    /// Writes one of nodeaudit's own events, after the events read so far (so the kernel
    /// events that explain it come first).
    private func writeOwnEvent(_ encode: (inout JSONWriter) -> Void) throws(LoopError) {
        var writer = JSONWriter(capacity: 4096)
        encode(&writer)
        do throws(SinkError) {
            try pipeline.writeOwnLines(writer.buffer)
        } catch {
            throw .output(error)
        }
    }

    /// Saves the highest serial the outputs settled (not only took: a queue delivers later,
    /// and what it still holds would be lost by a kill without a count), and the API audit
    /// log's read position likewise.
    private func saveStreamState(now: UInt64) {
        continuity?.save(now: now) { pipeline.writes.highestSerial(settledWrites: output.settledWrites) }
        kubernetesAudit?.saveSettled(output.settledWrites)
    }

    /// Writes the API audit events read since the last flush, after the node's events so
    /// far, and the exec sessions answered since.
    private func deliverKubernetesAudit(now: UInt64) throws(SinkError) {
        try kubernetesAudit?.deliver(nowMilliseconds: Int64(now)) { (lines) throws(SinkError) -> UInt64 in
            try pipeline.writeOwnLines(lines)
            return pipeline.writes.count
        }
    }

    /// Once the first record has come: says (as an event, a counter and on stderr) what
    /// the kernel logged between the previous run's last event and this run's first.
    private func reportRestartGapOnce() throws(SinkError) {
        guard let continuity, !continuity.checked, let first = pipeline.firstSerial else { return }
        guard let report = continuity.gap(firstSerial: first) else { return }
        diagnostics.error("since the previous run (last event serial \(report.previousSerial)): \(report.missingEvents) events "
            + "were never read (first serial now \(first)); the kernel lost \(report.kernelLostRecords) records meanwhile")
        var writer = JSONWriter(capacity: 512)
        report.encode(into: &writer)
        try pipeline.writeOwnLines(writer.buffer)
    }

    // MARK: - Reload

    /// SIGHUP: reopens the output file, reads the user databases and the configuration
    /// again, and loads the rule files anew. What fails keeps what was in force, and says
    /// why; settings that only a start can change are named.
    private func reload() throws(LoopError) {
        diagnostics.notice("reload (SIGHUP)")
        RotatingFileSink.requestReopen()
        pipeline.reloadEnrichers()
        do {
            let new = try reloadConfiguration()
            let changed = Setting.all.filter { new[$0] != configuration[$0] }
            let live: Set<Setting> = [.ruleFiles, .driftCheck, .statsInterval, .filters, .sigma]
            let later = changed.filter { !live.contains($0) }.map(\.key)
            if !later.isEmpty {
                diagnostics.notice("reload: \(later.joined(separator: ", ")) changed; in force from the next start")
            }
            let reloaded = LiveOptions(configuration: new)
            configuration = new
            options.ruleFiles = reloaded.ruleFiles
            options.driftCheckSeconds = reloaded.driftCheckSeconds
            options.statsIntervalSeconds = reloaded.statsIntervalSeconds
            if changed.contains(.filters) {
                pipeline.replaceFilters(reloaded.events.filters)
                diagnostics.notice("reload: \(reloaded.events.filters.count) filters in force")
            }
            if changed.contains(.sigma) {
                options.events.sigmaPaths = reloaded.events.sigmaPaths
                sigmaRefusals = []
                sigmaWatch = options.events.sigmaPaths.isEmpty ? nil : RuleFileWatch(paths: options.events.sigmaPaths, expand: SigmaRuleSet.files)
                if sigmaWatch == nil { pipeline.replaceDetector(nil) }
            }
        } catch {
            diagnostics.error("reload: the configuration is refused, the running one stays: \(error)")
        }
        if ruleFileWatch != nil { ruleFileWatch = RuleFileWatch(paths: options.ruleFiles) }
        if sigmaWatch != nil { reloadSigma() }
        try reloadRules(trigger: "signal")
    }

    /// Loads the Sigma rules again (their files changed, or SIGHUP): in force from the next
    /// event, unless a file is now unreadable or a rule newly refused, which keeps the rules
    /// in force and says why.
    private func reloadSigma() {
        let set = EventOptions.loadSigma(options.events.sigmaPaths, diagnostics: diagnostics)
        let new = set.problems.subtracting(sigmaRefusals)
        guard new.isEmpty else {
            diagnostics.error("sigma: the changed rule files have \(new.count) new problems; the \(pipeline.snapshot().detections.count) rules in force stay")
            return
        }
        sigmaRefusals = set.problems
        pipeline.replaceDetector(set)
        diagnostics.notice("sigma: \(set.rules.count) rules in force")
    }

    /// The run's rule files, read and encoded (watches as seen from the node's root).
    private func wantedRules() throws(RuleLoadError) -> WantedRules {
        try RuleFiles.wanted(options.ruleFiles, allowImmutable: false, hostRoot: options.hostRoot)
    }

    /// Loads the rule files again and makes the kernel hold them: what they add is added,
    /// what nodeaudit loaded and they no longer name is removed, other tools' rules stay,
    /// and drift repair keeps the new set. Files with errors keep the previous rules.
    /// A reload that changed or failed something is a `nodeaudit_rules_reloaded` event.
    private func reloadRules(trigger: String) throws(LoopError) {
        guard options.applyRules, let driftRepair else { return }
        var report = RulesReloadReport(epochMilliseconds: WallClock.nowMilliseconds(), node: options.events.nodeName, trigger: trigger)
        do throws(RuleLoadError) {
            let wanted = try wantedRules()
            let applied = rules.apply(wanted)
            report.added = applied.added
            report.removed = applied.removed
            report.skipped = applied.skipped
            report.failures = applied.failures
            driftRepair.wanted = wanted
        } catch {
            diagnostics.error("reload: the rules are refused, the loaded ones stay:\n\(error)")
            report.refusal = error.description
        }
        guard !report.isEmpty else {
            diagnostics.notice("reload: the kernel already holds the rule files' rules")
            return
        }
        diagnostics.notice("rules reloaded (\(trigger)): \(report.added.count) added, \(report.removed.count) removed"
            + (report.failures.isEmpty ? "" : ", \(report.failures.count) refused by the kernel")
            + (report.refusal == nil ? "" : "; the files were refused, the previous rules stay"))
        try writeOwnEvent(report.encode)
    }

    // MARK: - Stop

    /// Reads what the kernel had sent before the stop request, gives the audit pid back,
    /// emits every event in flight, keeps the state for the next run, lets the outputs
    /// finish, closes the kernel session (self-exclusion, cleanup), and writes the final
    /// statistics.
    private func stop() {
        if let session {
            drainBeforeStop()
            do throws(SinkError) { try session.close(readingRest: addRecord) } catch {
                outputFailuresAtStop += 1
                diagnostics.error("stop: the output failed while the last records were read: \(error)")
            }
        }
        do throws(RuleOwnership.RecordError) { try ownershipAtStart?.restore() } catch {
            diagnostics.error("cleanup: the record of the rules nodeaudit loaded: \(error)")
        }
        kubernetesAudit?.stopReading()
        do throws(SinkError) {
            try pipeline.finish()
            try deliverKubernetesAudit(now: WallClock.nowMilliseconds())
            try pipeline.flush()
            try reportRestartGapOnce()
        } catch {
            outputFailuresAtStop += 1
            diagnostics.error("stop: the output failed while the last events were written: \(error)")
        }
        if let status = try? session?.control.status() { continuity?.setKernelLost(status.lost) }
        // Outputs settle what they hold before close returns: the webhook then answers the
        // batches they took, and refuses the rest (the API server sends those again).
        let stuck = output.close(timeoutMilliseconds: 5_000)
        kubernetesAudit?.stop()
        saveStreamState(now: WallClock.nowMilliseconds())
        if !stuck.isEmpty {
            diagnostics.error("\(stuck.joined(separator: ", ")) did not take every event within 5 s; "
                + "\(output.counters.pendingBytes) bytes of events are left (a spool keeps them for the next start)")
        }
        reportDrops()
        diagnostics.notice("final: " + statistics().line)
    }

    /// The kernel delivers in order, so once a record stamped after the stop request has
    /// arrived, everything logged before it has too. On a quiet system that record never
    /// comes: then the stream going quiet for 150 ms ends the wait; 3 s bound it.
    private func drainBeforeStop() {
        guard let session else { return }
        let stopTime = WallClock.nowMilliseconds()
        let deadline = stopTime + Self.stopDeadlineMilliseconds
        var quietRounds = 0
        while quietRounds < Self.stopQuietRounds, WallClock.nowMilliseconds() < deadline, pipeline.newestRecordMilliseconds <= stopTime {
            _ = session.waitForRecords(milliseconds: Self.stopWaitMilliseconds)
            let read = (try? readAvailable())?.records ?? 0
            quietRounds = read == 0 ? quietRounds + 1 : 0
        }
    }

    // MARK: - Statistics

    private func statistics() -> CollectorStatistics {
        let status = try? session?.control.status()
        let lostAtStart = session?.lostAtStart ?? 0
        return CollectorStatistics(
            pipeline: pipeline.snapshot(), inFlight: pipeline.eventsInFlight,
            kernelLost: status.map { UInt64($0.lost >= lostAtStart ? $0.lost - lostAtStart : $0.lost) },
            backlog: status.map { UInt64($0.backlog) }, overflows: session?.overflows ?? 0,
            outputs: output.outputs.map { ($0.name, $0.channel.counters) },
            driftRepairs: driftRepair?.repairs ?? 0, restartMissing: continuity?.missing ?? 0, outputFailuresAtStop: outputFailuresAtStop,
            kubernetes: kubernetesAudit?.counters)
    }
}
