import AuditEvents
import AuditRecords
import Enrichment
import Configuration
import HostIO
import Output
import Sigma

/// The one direction data flows: records → events → enrichment → encoding → sink.
///
/// Sources (files, stdin, the kernel) push records in; everything after is the
/// same for offline and live input.
package final class EventPipeline {
    // The pipeline is used from one thread, and its methods never reach one of these
    // while already in it (the assembler's emit closure renders and writes, and does not
    // touch the assembler): the run-time exclusivity checks, some per record, are left out.
    @exclusivity(unchecked) private var assembler: EventAssembler
    private let renderer: EventRenderer
    private let sink: any EventSink
    @exclusivity(unchecked) private var writer = JSONWriter(capacity: 256 * 1024)
    private let batchBytes = 128 * 1024
    /// Renders and writes on a second core when the pipeline was made with one.
    private let renderingThread: RenderingThread?
    /// Closed groups waiting to be handed to `renderingThread`.
    private var handover = RenderBatch()
    /// Written events this thread interpreted, spent, for the next it interprets.
    private var spareEvents: [AuditEvent] = []
    private let handoverEvents = 128
    package private(set) var counters = PipelineCounters()

    /// With `renderingThread`, events are interpreted, enriched, encoded and written on a
    /// thread of their own (offline input, where throughput counts more than CPU per event).
    package init(
        assembly: AssemblyPolicy = AssemblyPolicy(maxEventAgeMilliseconds: UInt64(Setting.eventTimeout.defaultValue.numberValue * 1000)),
        interpreter: EventInterpreter = EventInterpreter(argvByteLimit: Setting.maxArgvBytes.defaultValue.integerValue),
        enrichers: [any EventEnricher],
        encoder: any EventEncoder,
        maxEventBytes: Int = Setting.maxEventBytes.defaultValue.integerValue,
        lineage: ProcessLineage? = nil,
        labels: ProcessLabels? = nil,
        detector: SigmaDetector? = nil,
        filters: [EventFilter] = [],
        sink: any EventSink,
        renderingThread: Bool = false
    ) {
        self.assembler = EventAssembler(policy: assembly)
        self.renderer = EventRenderer(
            interpreter: interpreter, enrichers: enrichers, lineage: lineage, labels: labels, detector: detector,
            filters: EventFilterChain(filters), encoder: encoder, maxEventBytes: maxEventBytes)
        self.sink = sink
        self.renderingThread = renderingThread
            ? RenderingThread(renderer: renderer, sink: sink, batchBytes: batchBytes) : nil
    }

    /// A pipeline as `parse` and `run` configure it; `extraSteps` run after the
    /// configured enrichment.
    package convenience init(
        options: EventOptions, sink: any EventSink, extraSteps: [any EventEnricher] = [], detector: SigmaDetector? = nil,
        renderingThread: Bool = false
    ) {
        self.init(
            assembly: AssemblyPolicy(maxEventAgeMilliseconds: options.eventTimeoutMilliseconds),
            interpreter: EventInterpreter(argvByteLimit: options.maxArgvBytes),
            enrichers: options.enrichers() + extraSteps,
            encoder: options.ecs
                ? ECSEncoder(staticFields: options.staticFields, dataset: options.ecsDataset)
                : NativeJSONEncoder(includeRecords: options.includeRecords, staticFields: options.staticFields, compact: options.compact),
            maxEventBytes: options.maxEventBytes,
            lineage: options.lineage(),
            labels: options.labelRules.isEmpty && !options.sessionLabels
                ? nil : ProcessLabels(rules: options.labelRules, sessionLabels: options.sessionLabels, capacity: options.labelProcesses),
            detector: detector,
            filters: options.filters,
            sink: sink,
            renderingThread: renderingThread)
    }

    deinit { renderingThread?.stop() }

    /// Adds one record; completed events go to the sink.
    package func add(_ record: AuditRecord) throws(SinkError) {
        noteArrival(of: record.stamp)
        try assembler.add(record, emit: emit)
    }

    /// Adds the end of an event (EOE) from its stamp alone: it closes the event, and
    /// needs no record.
    package func endOfEvent(_ stamp: AuditStamp) throws(SinkError) {
        noteArrival(of: stamp)
        try assembler.endOfEvent(EventKey(stamp: stamp, node: nil), emit: emit)
    }

    /// The newest record time and the stream's first serial count every record, EOE too.
    private func noteArrival(of stamp: AuditStamp) {
        newestRecordMilliseconds = max(newestRecordMilliseconds, stamp.epochMilliseconds)
        if firstSerial == nil { firstSerial = stamp.serial }
    }

    /// Has the enrichment steps read the host again (user databases; SIGHUP).
    package func reloadEnrichers() { renderer.reloadEnrichers() }

    /// Filters in place of the configured ones, from the next event on (SIGHUP; live
    /// input, which has no rendering thread).
    package func replaceFilters(_ filters: [EventFilter]) {
        precondition(renderingThread == nil, "filters are replaced only in a pipeline without a rendering thread")
        renderer.replaceFilters(filters)
    }

    /// Sigma rules in place of those loaded, from the next event on (live input, which has
    /// no rendering thread).
    package func replaceDetector(_ set: SigmaRuleSet?) {
        precondition(renderingThread == nil, "rules are replaced only in a pipeline without a rendering thread")
        renderer.replaceDetector(set)
    }

    /// An event separator in the input (ausearch's `----`): the open events are complete.
    package func separator() throws(SinkError) {
        try assembler.separator(emit: emit)
    }

    /// Counts input that was not a record.
    package func countMalformed() { counters.malformed += 1 }

    /// Counts bytes and lines read by a source.
    package func countInput(bytes: UInt64 = 0, lines: UInt64 = 0) {
        counters.bytes += bytes
        counters.lines += lines
    }

    /// Closes events whose records stopped arriving (live input, on a timer).
    package func closeExpired(nowMilliseconds: UInt64) throws(SinkError) {
        try assembler.closeExpired(nowMilliseconds: nowMilliseconds, emit: emit)
        try drain()
    }

    /// Delivers every event completed so far (live input: after each batch of records,
    /// so an event reaches the sink as soon as its last record arrived).
    package func flush() throws(SinkError) {
        try drain()
        try sink.flush()
    }

    /// Emits every open event and delivers everything to the sink.
    package func finish() throws(SinkError) {
        try assembler.flush(emit: emit)
        try flush()
        syncCounters()
    }

    /// The highest serial of an event rendered on this thread (live input).
    /// Like the other hot properties here, used by the pipeline's one thread: the
    /// run-time exclusivity checks are left out.
    @exclusivity(unchecked) private var highestSerialRendered: UInt64 = 0
    /// The sink's writes and the highest serial each one completed, for the state a
    /// restart compares with (`StreamState`).
    package let writes = SettledSerials()

    /// Writes lines that are no event of the stream (nodeaudit's own reports) to the sink,
    /// after the events rendered so far, keeping the count of writes the outputs settle.
    package func writeOwnLines(_ lines: [UInt8]) throws(SinkError) {
        try drain()
        try sink.write(lines)
        writes.wrote(upToSerial: highestSerialRendered)
    }

    /// The serial of the first record added, nil before any.
    @exclusivity(unchecked) package private(set) var firstSerial: UInt64?

    /// The stamp time of the newest record added, in milliseconds since the epoch.
    @exclusivity(unchecked) package private(set) var newestRecordMilliseconds: UInt64 = 0

    /// Events still waiting for records.
    package var eventsInFlight: Int { assembler.eventsInFlight }

    /// The counters, including the assembler's, as of now.
    package func snapshot() -> PipelineCounters {
        syncCounters()
        return counters
    }

    /// Reads the assembler's and the renderer's counters (the renderer is idle here: with a
    /// rendering thread, callers have drained it).
    private func syncCounters() {
        counters.assembly = assembler.counters
        counters.serialGaps = assembler.sequence.missing
        counters.eventsWritten = renderer.eventsWritten
        counters.eventsWithMalformedFields = renderer.eventsWithMalformedFields
        counters.eventsTruncated = renderer.eventsTruncated
        counters.filtered = renderer.filteredCounts
        counters.labelEvictions = renderer.labelEvictions
        counters.ancestryEvictions = renderer.ancestryEvictions
        counters.tables = renderer.tables
        counters.detections = renderer.detections
    }

    /// Renders a closed group (or hands it to the rendering thread); a full batch goes to
    /// the sink, whose failure travels up through the assembler.
    private func emit(_ group: RecordGroup) throws(SinkError) {
        if renderingThread != nil {
            handover.groups.append(group)
            if handover.count >= handoverEvents { try submitHandover() }
            return
        }
        renderer.render(group, into: &writer)
        if group.key.stamp.serial > highestSerialRendered { highestSerialRendered = group.key.stamp.serial }
        if writer.count >= batchBytes { try drain() }
    }

    /// Hands everything rendered so far to the sink (with a rendering thread: waits until
    /// that thread has written every event handed to it).
    private func drain() throws(SinkError) {
        if let renderingThread {
            if !handover.isEmpty { try submitHandover() }
            try renderingThread.drain()
            return
        }
        guard !writer.isEmpty else { return }
        try writer.withBytes { (bytes) throws(SinkError) in try sink.write(contentsOf: bytes) }
        writer.removeAll()
        writes.wrote(upToSerial: highestSerialRendered)
    }

    /// When the rendering thread is behind, this thread interprets the batch itself before
    /// handing it over instead of waiting: the two threads then share the work.
    private func submitHandover() throws(SinkError) {
        guard let renderingThread else { return }
        if renderingThread.isBehind { handover.interpretGroups(with: renderer, reusing: &spareEvents) }
        var batch = RenderBatch()
        batch.groups.reserveCapacity(handoverEvents)
        swap(&batch, &handover)
        for var written in try renderingThread.submit(batch) {
            // Enough for the batches in flight: the other thread may hold several.
            written.recycleEvents(into: &spareEvents, keeping: 4 * handoverEvents)
        }
    }
}

/// Which serial each write to the sink completed, kept until the sink settles it: a sink
/// that delivers later (a queue) says how many writes it settled, and this turns that into
/// the highest serial delivered. Locked: the outputs' delivery threads ask as soon as they
/// delivered, while the pipeline's thread writes.
package final class SettledSerials: @unchecked Sendable {
    private let state = Monitor(WrittenSerials())

    /// Records the write just made to the sink, which completed every event up to `serial`.
    func wrote(upToSerial serial: UInt64) {
        state.withLock { $0.wrote(upToSerial: serial) }
    }

    /// The highest serial of the events in the first `settledWrites` writes (never lower
    /// than an earlier answer).
    package func highestSerial(settledWrites: UInt64) -> UInt64 {
        state.withLock { $0.highestSerial(settledWrites: settledWrites) }
    }

    /// The writes made so far: the number of the last one (the API audit input keeps its
    /// read position until the outputs settled the write that carried it).
    package var count: UInt64 { state.withLock { $0.count } }
}

/// Bounded: past `limit` writes in flight the oldest one's serial is forgotten, so it
/// counts as settled only with the next — a later, never an earlier, claim of what was
/// delivered.
struct WrittenSerials {
    private var pending: [(write: UInt64, serial: UInt64)] = []
    private var first = 0
    private(set) var count: UInt64 = 0
    private var settledSerial: UInt64 = 0
    private let limit = 4_096

    /// Records the write just made, which completed every event up to `serial`.
    mutating func wrote(upToSerial serial: UInt64) {
        count += 1
        if pending.count - first >= limit { first += 1 }
        pending.append((count, serial))
    }

    mutating func highestSerial(settledWrites: UInt64) -> UInt64 {
        while first < pending.count, pending[first].write <= settledWrites {
            settledSerial = max(settledSerial, pending[first].serial)
            first += 1
        }
        if first == pending.count || first > limit {
            pending.removeFirst(first)
            first = 0
        }
        return settledSerial
    }
}
