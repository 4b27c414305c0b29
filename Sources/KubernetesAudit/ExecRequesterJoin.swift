import AuditEvents
import Enrichment

/// The enrichment step that puts the Kubernetes user on exec sessions: each session is
/// looked up once, by its key and the time of its first event, in the API requests the
/// stream showed (`ExecRequestIndex`), and every event of the session gets the answer.
package final class ExecRequesterJoin: EventEnricher, @unchecked Sendable {
    private let index: ExecRequestIndex
    private var sessions = SessionAnswers()

    package init(index: ExecRequestIndex) { self.index = index }

    package func enrich(_ event: inout AuditEvent) {
        guard var exec = event.kubernetesExec, let session = event.execSession else { return }
        let time = Int64(event.key.stamp.epochMilliseconds)
        exec.requester = sessions.answer(for: session.id) { index.match(key: exec.key, at: time) }
        event.kubernetesExec = exec
    }
}
