import AuditEvents
import Enrichment

/// Everything the pipeline counted, from bytes in to events out; shown on exit and, for
/// the live collector, periodically.
package struct PipelineCounters: Sendable {
    package var bytes: UInt64 = 0
    package var lines: UInt64 = 0
    /// Lines or messages that were not records (counted, reported, skipped).
    package var malformed: UInt64 = 0
    /// Events emitted with fields that were in neither of the kernel's encodings, or
    /// with parts missing (their `malformed_fields`).
    package var eventsWithMalformedFields: UInt64 = 0
    package var eventsWritten: UInt64 = 0
    /// Events longer than `events.max_event_bytes`, written reduced and marked `truncated`.
    package var eventsTruncated: UInt64 = 0
    /// Each configured filter, as written, with the events it dropped.
    package var filtered: [(filter: String, dropped: UInt64)] = []
    /// Matches of each Sigma rule in force (`ID TITLE`) and its level.
    package var detections: [(rule: String, level: String, matches: UInt64)] = []
    /// Labelled processes forgotten past `events.label_processes`.
    package var labelEvictions: UInt64 = 0
    /// Processes forgotten for ancestry past `events.ancestry_processes`.
    package var ancestryEvictions: UInt64 = 0
    /// How full each of the node's tables is (ancestry, processes, sessions…).
    package var tables: [TableSize] = []
    /// Processes remembered for ancestry now (at most `events.ancestry_processes`).
    package var ancestryProcesses: UInt64 { UInt64(tables.first { $0.name == "ancestry" }?.entries ?? 0) }
    package var assembly = AssemblyCounters()
    package var serialGaps: UInt64 = 0

    package init() {}

    /// One human-readable line.
    package var summary: String {
        var parts = [
            "\(lines) lines", "\(assembly.records) records", "\(eventsWritten) events",
            "\(malformed) malformed", "\(assembly.lateRecords) late records", "\(serialGaps) missing serials",
        ]
        if eventsWithMalformedFields > 0 { parts.append("\(eventsWithMalformedFields) events with malformed fields") }
        if eventsTruncated > 0 { parts.append("\(eventsTruncated) truncated") }
        if !filtered.isEmpty {
            let each = filtered.map { "\($0.dropped) by '\($0.filter)'" }.joined(separator: ", ")
            parts.append("\(filtered.reduce(0) { $0 + $1.dropped }) dropped by filters (\(each))")
        }
        if ancestryEvictions > 0 { parts.append("\(ancestryEvictions) processes forgotten for ancestry (events.ancestry_processes)") }
        if labelEvictions > 0 { parts.append("\(labelEvictions) labelled processes forgotten (events.label_processes)") }
        if assembly.evicted > 0 { parts.append("\(assembly.evicted) closed early (too many open)") }
        if assembly.oversizeEvents > 0 { parts.append("\(assembly.oversizeEvents) oversize") }
        return parts.joined(separator: ", ")
    }
}
