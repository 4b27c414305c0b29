import AuditEvents
import HostIO

/// The exec requests the API audit stream showed, by `k8s.exec.key`: what an exec session
/// on the node is joined to. Each request counts once whatever stages were recorded;
/// refused requests (they start nothing on a node) are left out. Bounded: past
/// `capacity` requests the oldest are forgotten. Locked: live, the API input adds while
/// the pipeline's thread looks up.
package final class ExecRequestIndex: @unchecked Sendable {
    private struct Request {
        var requester: KubernetesRequester
        var milliseconds: Int64
    }

    private struct State {
        var byKey: [String: [Request]] = [:]
        /// Keys in the order their requests came, to forget the oldest.
        var order: [String] = []
        var oldest = 0
        var count = 0
    }

    private let state = Monitor(State())
    /// How far apart an API request and the session's first event may be.
    package let windowMilliseconds: Int64
    package let capacity: Int

    package init(windowMilliseconds: Int64 = 10_000, capacity: Int = 100_000) {
        self.windowMilliseconds = windowMilliseconds
        self.capacity = capacity
    }

    /// Files the event when it is an allowed exec with a key; false otherwise.
    @discardableResult
    package func add(_ event: APIAuditEvent) -> Bool {
        guard !event.wasRefused, let key = event.execRequest?.key,
              let time = event.requestReceivedMilliseconds ?? event.milliseconds else { return false }
        let request = Request(requester: event.requester, milliseconds: time)
        return state.withLock { state in
            if let known = state.byKey[key], known.contains(where: { $0.requester.auditID == event.auditID }) { return false }
            if state.count == capacity {
                let forgotten = state.order[state.oldest]
                state.byKey[forgotten]?.removeFirst()
                if state.byKey[forgotten]?.isEmpty == true { state.byKey[forgotten] = nil }
                state.order[state.oldest] = key
                state.oldest = (state.oldest + 1) % capacity
            } else {
                state.order.append(key)
                state.count += 1
            }
            state.byKey[key, default: []].append(request)
            return true
        }
    }

    /// The requests with `key` within the window of `milliseconds`: one names the user,
    /// several are ambiguous, none is a finding of its own.
    package func match(key: String, at milliseconds: Int64) -> ExecRequesterMatch {
        let near = state.withLock { state in
            (state.byKey[key] ?? []).filter { abs($0.milliseconds - milliseconds) <= windowMilliseconds }
        }
        switch near.count {
        case 0: return .notFound
        case 1: return .found(near[0].requester)
        default: return .ambiguous(auditIDs: near.map(\.requester.auditID))
        }
    }

    package var count: Int { state.withLock { $0.count } }
}
