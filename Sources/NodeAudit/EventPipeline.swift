import AuditEvents
import AuditRecords
import Enrichment
import Output

/// The one direction data flows: records → events → enrichment → encoding → sink.
///
/// Sources (files, stdin, later the kernel) push records in; everything after is the
/// same for offline and live input.
public final class EventPipeline {
    private var assembler: EventAssembler
    private let interpreter: EventInterpreter
    private let enrichers: [any EventEnricher]
    private let encoder: any EventEncoder
    private let sink: any EventSink
    private var writer = JSONWriter(capacity: 256 * 1024)
    private let batchBytes = 128 * 1024
    public private(set) var counters = PipelineCounters()

    public init(
        assembly: AssemblyPolicy = AssemblyPolicy(),
        interpreter: EventInterpreter = EventInterpreter(),
        enrichers: [any EventEnricher],
        encoder: any EventEncoder,
        sink: any EventSink
    ) {
        self.assembler = EventAssembler(policy: assembly)
        self.interpreter = interpreter
        self.enrichers = enrichers
        self.encoder = encoder
        self.sink = sink
    }

    /// A pipeline as `parse` and `run` configure it; `extraSteps` run after the
    /// configured enrichment.
    public convenience init(options: EventOptions, sink: any EventSink, extraSteps: [any EventEnricher] = []) {
        self.init(
            assembly: AssemblyPolicy(maxEventAgeMilliseconds: options.eventTimeoutMilliseconds),
            interpreter: EventInterpreter(argvByteLimit: options.maxArgvBytes),
            enrichers: options.enrichers() + extraSteps,
            encoder: options.ecs ? ECSEncoder() : NativeJSONEncoder(includeRecords: options.includeRecords),
            sink: sink)
    }

    /// Adds one record; completed events go to the sink.
    public func add(_ record: AuditRecord) throws(SinkError) {
        newestRecordMilliseconds = max(newestRecordMilliseconds, record.stamp.epochMilliseconds)
        var failure: SinkError?
        assembler.add(record) { group in
            if failure == nil { failure = emitCatching(group) }
        }
        if let failure { throw failure }
    }

    /// Counts input that was not a record.
    public func countMalformed() { counters.malformed += 1 }

    /// Counts bytes and lines read by a source.
    public func countInput(bytes: UInt64 = 0, lines: UInt64 = 0) {
        counters.bytes += bytes
        counters.lines += lines
    }

    /// Closes events whose records stopped arriving (live input, on a timer).
    public func closeExpired(nowMilliseconds: UInt64) throws(SinkError) {
        var failure: SinkError?
        assembler.closeExpired(nowMilliseconds: nowMilliseconds) { group in
            if failure == nil { failure = emitCatching(group) }
        }
        if let failure { throw failure }
        try drain()
    }

    /// Delivers every event completed so far (live input: after each batch of records,
    /// so an event reaches the sink as soon as its last record arrived).
    public func flush() throws(SinkError) {
        try drain()
        try sink.flush()
    }

    /// Emits every open event and delivers everything to the sink.
    public func finish() throws(SinkError) {
        var failure: SinkError?
        assembler.flush { group in
            if failure == nil { failure = emitCatching(group) }
        }
        if let failure { throw failure }
        try flush()
        syncCounters()
    }

    /// The stamp time of the newest record added, in milliseconds since the epoch.
    public private(set) var newestRecordMilliseconds: UInt64 = 0

    /// Events still waiting for records.
    public var eventsInFlight: Int { assembler.eventsInFlight }

    /// The counters, including the assembler's, as of now.
    public func snapshot() -> PipelineCounters {
        syncCounters()
        return counters
    }

    private func syncCounters() {
        counters.assembly = assembler.counters
        counters.serialGaps = assembler.sequence.missing
    }

    private func emitCatching(_ group: RecordGroup) -> SinkError? {
        var event = interpreter.interpret(group)
        for enricher in enrichers { enricher.enrich(&event) }
        encoder.encode(event, into: &writer)
        counters.eventsWritten += 1
        if event.malformedFields > 0 { counters.eventsWithMalformedFields += 1 }
        if writer.buffer.count >= batchBytes {
            do throws(SinkError) { try drain() } catch { return error }
        }
        return nil
    }

    private func drain() throws(SinkError) {
        guard !writer.buffer.isEmpty else { return }
        try sink.write(writer.buffer)
        writer.removeAll()
    }
}
