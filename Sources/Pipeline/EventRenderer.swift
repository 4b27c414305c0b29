import AuditEvents
import HostIO
import Enrichment
import Output
import Sigma

/// The part of the pipeline after correlation: interpret a closed group of records,
/// enrich the event (in input order: login sessions depend on it), filter, encode it.
///
/// Runs on the pipeline's thread, or — for offline input — on a `RenderingThread`, which
/// then is the only thread using it until it is drained (except `interpret`, which is
/// stateless).
package final class EventRenderer: @unchecked Sendable {
    private let interpreter: EventInterpreter
    private let enrichers: [any EventEnricher]
    /// The process tree for each event's parent and ancestors; nil when not asked for.
    private let lineage: ProcessLineage?
    /// After enrichment, so that label rules see containers and names; nil without label rules or session labels.
    private var labels: ProcessLabels?
    /// Sigma rules, after enrichment, ancestry and labels (rules read containers and parents),
    /// before filters (which may keep only matches); nil without rules.
    private var detector: SigmaDetector?
    /// After enrichment and labels, so that filters see containers, names and labels, and every event still
    /// teaches the enrichers (sessions, processes) even when it is dropped.
    private var filters: EventFilterChain
    private let encoder: any EventEncoder
    /// The longest line an event may be; a longer one is cut and marked.
    private let maxEventBytes: Int
    /// The thread that renders (debug builds check it).
    @exclusivity(unchecked) private var owner = ThreadOwner("EventRenderer")
    private(set) var eventsWritten: UInt64 = 0
    private(set) var eventsWithMalformedFields: UInt64 = 0
    private(set) var eventsTruncated: UInt64 = 0

    package init(interpreter: EventInterpreter, enrichers: [any EventEnricher], lineage: ProcessLineage?, labels: ProcessLabels?,
                 detector: SigmaDetector?, filters: EventFilterChain, encoder: any EventEncoder, maxEventBytes: Int) {
        self.interpreter = interpreter
        self.enrichers = enrichers
        self.lineage = lineage
        self.labels = labels
        self.detector = detector
        self.filters = filters
        self.encoder = encoder
        self.maxEventBytes = maxEventBytes
    }

    /// Appends the group's event, as one line, to `writer`.
    package func render(_ group: RecordGroup, into writer: inout JSONWriter) {
        if lastEvent == nil {
            lastEvent = interpret(group)
        } else {
            interpret(group, into: &lastEvent!)
        }
        render(interpreted: &lastEvent!, into: &writer)
        // Its records go with the group they came in, to be freed where they were made.
        lastEvent!.records = []
    }

    /// Enriches and appends an event already interpreted (by `interpret`, maybe on another
    /// thread) to `writer`, in place. Its buffers stay with it, to be freed where they were
    /// allocated: freeing them here would contend for the other thread's malloc arena.
    package func render(interpreted event: inout AuditEvent, into writer: inout JSONWriter) {
        owner.check()
        for enricher in enrichers { enricher.enrich(&event) }
        lineage?.trace(&event)
        if labels != nil { labels!.label(&event) }
        detector?.detect(&event)
        if !filters.isEmpty, !filters.keeps(event) { return }
        eventsWritten += 1
        if event.malformedFields > 0 { eventsWithMalformedFields += 1 }
        if encoder.encode(event, into: &writer, maxBytes: maxEventBytes) { eventsTruncated += 1 }
    }

    /// The Sigma rules' matches so far, per rule, and the rules (for /metrics).
    /// Sigma rules in place of those loaded (their files changed); nil: none. Rules kept
    /// keep their counts.
    package func replaceDetector(_ set: SigmaRuleSet?) {
        detector = set.map { SigmaDetector(rules: $0.rules, correlations: $0.correlations, replacing: detector) }
    }

    /// Matches so far of each Sigma rule in force.
    package var detections: [(rule: String, level: String, matches: UInt64)] {
        guard let detector else { return [] }
        return detector.rules.indices.map { ("\(detector.rules[$0].id) \(detector.rules[$0].title)", detector.rules[$0].level.rawValue, detector.matches[$0]) }
            + detector.correlationCounts.map { ("\($0.correlation.id) \($0.correlation.title)", $0.correlation.level.rawValue, $0.matches) }
    }

    /// Filters in place of the configured ones (SIGHUP); those written as before keep their counts.
    package func replaceFilters(_ new: [EventFilter]) { filters = EventFilterChain(new, replacing: filters) }

    /// Labelled processes forgotten because there were more than the configured most.
    package var labelEvictions: UInt64 { labels?.evicted ?? 0 }

    /// Processes forgotten for ancestry past the configured most.
    package var ancestryEvictions: UInt64 { lineage?.evicted ?? 0 }

    /// Every table of the node the renderer and its enrichers keep, with its bound.
    package var tables: [TableSize] {
        (lineage.map { [TableSize("ancestry", entries: $0.count, capacity: $0.capacity)] } ?? [])
            + (labels.map { [TableSize("labels", entries: $0.count, capacity: $0.capacity)] } ?? [])
            + enrichers.flatMap(\.tables)
    }

    /// Each filter as written, with the events it dropped.
    package var filteredCounts: [(filter: String, dropped: UInt64)] {
        zip(filters.filters, filters.dropped).map { ($0.description, $1) }
    }

    /// Has every enrichment step read the host again (SIGHUP).
    package func reloadEnrichers() { enrichers.forEach { $0.reload() } }

    /// Interprets a group without enriching it: stateless, so any thread may call it.
    package func interpret(_ group: RecordGroup) -> AuditEvent { interpreter.interpret(group) }

    /// Interprets a group into a spent event, reusing its buffers; stateless like `interpret(_:)`.
    package func interpret(_ group: RecordGroup, into event: inout AuditEvent) { interpreter.interpret(group, into: &event) }

    /// The last event `render(_:into:)` wrote: the next is interpreted into it, in place.
    /// Only `render(_:into:)` reaches it, never twice at once: the run-time exclusivity
    /// checks, three per event, are left out.
    @exclusivity(unchecked) private var lastEvent: AuditEvent?
}

/// What the pipeline hands to a `RenderingThread` at once: closed groups of records, or —
/// when that thread is behind — their events, interpreted by the handing thread.
package struct RenderBatch {
    package var groups: [RecordGroup] = []
    package var events: [AuditEvent] = []

    package var count: Int { groups.count + events.count }
    package var isEmpty: Bool { groups.isEmpty && events.isEmpty }

    /// Interprets the groups into events with `renderer`, reusing spent events from `spares`.
    package mutating func interpretGroups(with renderer: EventRenderer, reusing spares: inout [AuditEvent]) {
        events.reserveCapacity(events.count + groups.count)
        for group in groups {
            if let spare = spares.popLast() {
                events.append(spare)
                renderer.interpret(group, into: &events[events.count - 1])
            } else {
                events.append(renderer.interpret(group))
            }
        }
        groups.removeAll()
    }

    /// Moves its spent events into `spares`, up to `limit` in all, without their records
    /// (freed here, on the thread that made them).
    package mutating func recycleEvents(into spares: inout [AuditEvent], keeping limit: Int) {
        while spares.count < limit, var event = events.popLast() {
            event.records = []
            spares.append(event)
        }
    }
}
