import AuditEvents
import Enrichment
import Output

/// The part of the pipeline after correlation: interpret a closed group of records,
/// enrich the event (in input order: login sessions depend on it), encode it.
///
/// Runs on the pipeline's thread, or — for offline input — on a `RenderingThread`, which
/// then is the only thread using it until it is drained.
final class EventRenderer: @unchecked Sendable {
    private let interpreter: EventInterpreter
    private let enrichers: [any EventEnricher]
    private let encoder: any EventEncoder
    private(set) var eventsWritten: UInt64 = 0
    private(set) var eventsWithMalformedFields: UInt64 = 0

    init(interpreter: EventInterpreter, enrichers: [any EventEnricher], encoder: any EventEncoder) {
        self.interpreter = interpreter
        self.enrichers = enrichers
        self.encoder = encoder
    }

    /// Appends the group's event, as one line, to `writer`.
    func render(_ group: RecordGroup, into writer: inout JSONWriter) {
        var buffers = EventBuffers()
        swap(&buffers, &spareBuffers)
        var event = interpreter.interpret(group, reusing: buffers)
        for enricher in enrichers { enricher.enrich(&event) }
        eventsWritten += 1
        if event.malformedFields > 0 { eventsWithMalformedFields += 1 }
        encoder.encode(event, into: &writer)
        spareBuffers = event.takeBuffers()
    }

    /// The buffers of the last event rendered, for the next.
    private var spareBuffers = EventBuffers()
}
