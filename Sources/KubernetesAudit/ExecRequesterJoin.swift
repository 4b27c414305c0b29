import AuditEvents
import Enrichment

/// The enrichment step that puts the Kubernetes user on exec sessions: each session is
/// looked up by its key and the time of its first event in the API requests the stream
/// showed (`ExecRequestIndex`), and every event of the session gets the answer.
///
/// Offline, every API request is known before the first node event: a session without one
/// is answered `none` at once. Live (`waitsForRequests`), the request's event may come
/// after the session's first events (the log is read every 200 ms, the webhook batches):
/// such a session waits, its events carry only the key, and `resolve` answers it once the
/// request comes or twice the window has passed, as a `k8s_exec` event of its own. The wait
/// counts from when nodeaudit first found the session waiting, not from its stamp: read
/// behind the kernel's stream, a session's events are stamped long before, and its request
/// may still be on its way.
package final class ExecRequesterJoin: EventEnricher, @unchecked Sendable {
    /// A session whose request has not come yet, with what its `k8s_exec` event names.
    package struct WaitingSession: Sendable {
        package var id: String
        package var key: String
        package var firstMilliseconds: Int64
        package var node: String?
        package var namespace: String?
        package var pod: String?
        package var container: String?
        /// Its wait, from the first `resolve` that found it waiting.
        var wait = FirstSeenTimer<Int64>()
    }

    private let index: ExecRequestIndex
    private let waitsForRequests: Bool
    private var sessions = SessionAnswers()
    private var waiting: [String: WaitingSession] = [:]
    package static let maximumWaiting = 4096

    package init(index: ExecRequestIndex, waitsForRequests: Bool = false) {
        self.index = index
        self.waitsForRequests = waitsForRequests
    }

    package func enrich(_ event: inout AuditEvent) {
        guard var exec = event.kubernetesExec, let session = event.execSession else { return }
        let time = Int64(event.key.stamp.epochMilliseconds)
        if waitsForRequests, !sessions.knows(session.id) {
            let answer = index.match(key: exec.key, at: waiting[session.id]?.firstMilliseconds ?? time)
            guard answer != .notFound else {
                if waiting[session.id] == nil, waiting.count < Self.maximumWaiting {
                    waiting[session.id] = WaitingSession(
                        id: session.id, key: exec.key, firstMilliseconds: time, node: event.nodeName?.utf8String,
                        namespace: event.workload?.pod?.namespace, pod: event.workload?.pod?.name, container: event.workload?.container?.name)
                }
                return
            }
            waiting[session.id] = nil
            exec.requester = sessions.answer(for: session.id) { answer }
        } else {
            exec.requester = sessions.answer(for: session.id) { index.match(key: exec.key, at: time) }
        }
        event.kubernetesExec = exec
    }

    /// The waiting sessions answered by now: their request came, or it did not within
    /// twice the window (the read loop, every flush).
    package func resolve(nowMilliseconds: Int64) -> [(session: WaitingSession, answer: ExecRequesterMatch)] {
        var resolved: [(WaitingSession, ExecRequesterMatch)] = []
        for (id, session) in waiting {
            let answer = index.match(key: session.key, at: session.firstMilliseconds)
            if answer == .notFound,
               waiting[id]?.wait.hasExceeded(2 * index.windowMilliseconds, now: nowMilliseconds) != true {
                continue
            }
            waiting[id] = nil
            resolved.append((session, sessions.answer(for: id) { answer }))
        }
        return resolved.sorted { $0.0.firstMilliseconds < $1.0.firstMilliseconds }
    }
}
