import AuditEvents
import Enrichment
import Output

/// The part of the pipeline after correlation: interpret a closed group of records,
/// enrich the event (in input order: login sessions depend on it), encode it.
///
/// Runs on the pipeline's thread, or — for offline input — on a `RenderingThread`, which
/// then is the only thread using it until it is drained (except `interpret`, which is
/// stateless).
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
        render(interpreted: &event, into: &writer)
        spareBuffers = event.takeBuffers()
    }

    /// Enriches and appends an event already interpreted (by `interpret`, maybe on another
    /// thread) to `writer`, in place. Its buffers stay with it, to be freed where they were
    /// allocated: freeing them here would contend for the other thread's malloc arena.
    func render(interpreted event: inout AuditEvent, into writer: inout JSONWriter) {
        for enricher in enrichers { enricher.enrich(&event) }
        eventsWritten += 1
        if event.malformedFields > 0 { eventsWithMalformedFields += 1 }
        encoder.encode(event, into: &writer)
    }

    /// Interprets a group without enriching it: stateless, so any thread may call it.
    func interpret(_ group: RecordGroup, reusing buffers: consuming EventBuffers) -> AuditEvent {
        interpreter.interpret(group, reusing: buffers)
    }

    /// The buffers of the last event rendered, for the next.
    private var spareBuffers = EventBuffers()
}

/// What the pipeline hands to a `RenderingThread` at once: closed groups of records, or —
/// when that thread is behind — their events, interpreted by the handing thread.
struct RenderBatch {
    var groups: [RecordGroup] = []
    var events: [AuditEvent] = []

    var count: Int { groups.count + events.count }
    var isEmpty: Bool { groups.isEmpty && events.isEmpty }

    /// Interprets the groups into events with `renderer`, in buffers from `spares`.
    mutating func interpretGroups(with renderer: EventRenderer, reusing spares: inout [EventBuffers]) {
        events.reserveCapacity(events.count + groups.count)
        for group in groups { events.append(renderer.interpret(group, reusing: spares.popLast() ?? EventBuffers())) }
        groups.removeAll()
    }

    /// Moves the buffers of its events into `spares`, up to `limit` in all.
    mutating func recycleBuffers(into spares: inout [EventBuffers], keeping limit: Int) {
        for index in events.indices where spares.count < limit { spares.append(events[index].takeBuffers()) }
    }
}
