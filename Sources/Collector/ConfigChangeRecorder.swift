import OwnEvents
import AuditEvents
import AuditRecords
import Enrichment
#if canImport(Glibc)
import Glibc
#endif

/// Remembers the CONFIG_CHANGE events that came with a process (a tool's syscall, such
/// as auditctl's), for the next drift report. nodeaudit's own changes come without one:
/// its syscalls are excluded from auditing.
package final class ConfigChangeRecorder: EventEnricher {
    private var changes: [DriftReport.Change] = []
    private let capacity = 64

    package func enrich(_ event: inout AuditEvent) {
        guard event.category == .config, let process = event.process, let pid = process.pid, pid != UInt32(getpid()),
              let record = event.records.first(where: { $0.type == .configChange }) else { return }
        let text = { (bytes: Bytes?) in bytes.map { String(decoding: $0, as: UTF8.self) } }
        let change = DriftReport.Change(
            eventID: event.id, operation: text(record.string("op")), key: text(record.string("key")),
            pid: pid, auid: record.unsigned("auid").flatMap { UInt32(exactly: $0) },
            session: record.unsigned("ses").flatMap { UInt32(exactly: $0) }, exe: event.string(process.exe), result: text(record.word("res")))
        if changes.count == capacity { changes.removeFirst() }
        changes.append(change)
    }

    package func takeChanges() -> [DriftReport.Change] {
        defer { changes.removeAll() }
        return changes
    }
}
