import AuditEvents
import AuditRecords

/// Follows logins (PAM's USER_START, the login's USER_LOGIN) by their audit session id
/// and puts who logged in, from where, on every later event of that session: the
/// commands, file changes and TTY input of one login read as one story.
///
/// The kernel stamps the session id (`ses`) on every record of a process after
/// pam_loginuid set it, so nothing is guessed; ended sessions are kept a while for late
/// events, then forgotten. Runs after `WorkloadResolver`: only the host's logins (or a
/// log's, when nothing is attributed) open sessions.
package final class LoginSessionTracker: EventEnricher {
    private var sessions: [UInt32: (session: LoginSession, endedAt: UInt64?)] = [:]
    private let keepEndedMilliseconds: UInt64
    private let capacity: Int

    package init(keepEndedMilliseconds: UInt64 = 600_000, capacity: Int = 65536) {
        self.keepEndedMilliseconds = keepEndedMilliseconds
        self.capacity = capacity
    }

    package var tables: [TableSize] { [TableSize("login_sessions", entries: sessions.count, capacity: capacity)] }

    package func enrich(_ event: inout AuditEvent) {
        guard let id = event.process?.session else { return }
        // A login sent from a container (any root process in a pod may send one) opens no
        // session: its session id is the container's, not a login on the node.
        if event.category == .login, let message = event.message, let type = event.records.first?.type,
           event.workload?.isHost != false, !event.isUnattributed {
            record(type, message, session: id, event: event)
        }
        if let known = sessions[id] { event.loginSession = known.session }
    }

    private func record(_ type: RecordType, _ message: UserMessage, session id: UInt32, event: AuditEvent) {
        let succeeded = event.bytes(message.result)?.equals("success") ?? false
        switch type {
        case .userStart where succeeded, .userLogin where succeeded:
            var session = sessions[id]?.session
                ?? LoginSession(id: id, user: nil, address: nil, terminal: nil, loginEventID: event.id)
            // Copied out of the event: the session outlives it.
            if let account = event.bytes(message.account) { session.user = Array(account)[...] }
            if let address = event.bytes(message.address) { session.address = Array(address)[...] }
            // USER_LOGIN names the real terminal (/dev/pts/N) where USER_START said `ssh`.
            if let terminal = event.bytes(message.terminal), type == .userLogin || session.terminal == nil {
                session.terminal = Array(terminal)[...]
            }
            if sessions.count >= capacity { forgetEnded(now: event.key.stamp.epochMilliseconds, all: true) }
            // Still full: every session is open (or was never seen to end); the oldest goes,
            // the kernel numbering sessions in the order they began.
            if sessions.count >= capacity, sessions[id] == nil, let oldest = sessions.keys.min() { sessions[oldest] = nil }
            sessions[id] = (session, nil)
        case .userEnd:
            if let known = sessions[id] {
                sessions[id] = (known.session, event.key.stamp.epochMilliseconds)
                forgetEnded(now: event.key.stamp.epochMilliseconds, all: false)
            }
        default:
            break
        }
    }

    /// Drops sessions ended longer ago than the keep time (or every ended one when full).
    private func forgetEnded(now: UInt64, all: Bool) {
        sessions = sessions.filter { _, entry in
            guard let ended = entry.endedAt else { return true }
            return !all && (now > ended ? now - ended : 0) < keepEndedMilliseconds
        }
    }
}
