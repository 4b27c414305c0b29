import AuditEvents
import HostIO
import KubernetesAudit
import Output
import Pipeline

/// The API audit stream in `nodeaudit run`: its sources (the API server's log file; the
/// webhook), the inbox they fill, the exec request index, and the join that names the user
/// of the node's exec sessions. The read loop calls `deliver` after each flush: the API
/// events go to the outputs after the node's events so far, followed by the `k8s_exec`
/// events of sessions answered since.
package final class KubernetesAuditIntake {
    package struct Settings: Sendable {
        package var file: String?
        package var webhook: APIAuditWebhook.Settings?
        package var stateDirectory: String
        package var stages: StageSelection
        package var joinWindowMilliseconds: Int64
        package var ecs: Bool
        package var staticFields: StaticFields
        package var maxEventBytes: Int

        package init(file: String?, webhook: APIAuditWebhook.Settings?, stateDirectory: String, stages: StageSelection, joinWindowMilliseconds: Int64, ecs: Bool,
                     staticFields: StaticFields, maxEventBytes: Int) {
            self.file = file
            self.webhook = webhook
            self.stateDirectory = stateDirectory
            self.stages = stages
            self.joinWindowMilliseconds = joinWindowMilliseconds
            self.ecs = ecs
            self.staticFields = staticFields
            self.maxEventBytes = maxEventBytes
        }
    }

    /// The enrichment step for the pipeline: the user on exec sessions.
    package let join: ExecRequesterJoin
    private let settings: Settings
    private let inbox: APIAuditInbox
    private let follower: APIAuditFileFollower?
    private let webhook: APIAuditWebhook?
    private let index: ExecRequestIndex
    package private(set) var sessionsAnswered: UInt64 = 0

    /// Binds the webhook's port (the reason when it cannot be used); the sources start
    /// with `start`, each on its own thread with its own `Diagnostics`. `settledWrites`: how
    /// many writes every output settled.
    package init(_ settings: Settings, settledWrites: @escaping @Sendable () -> UInt64) throws(APIAuditWebhook.ServerError) {
        self.settings = settings
        // Live, a request matters for twice the window: 10,000 exec requests are hours of a
        // busy cluster's.
        let index = ExecRequestIndex(windowMilliseconds: settings.joinWindowMilliseconds, capacity: 10_000)
        self.index = index
        join = ExecRequesterJoin(index: index, waitsForRequests: true)
        let encoder = APIEventEncoder(ecs: settings.ecs, staticFields: settings.staticFields, maxEventBytes: settings.maxEventBytes)
        let inbox = APIAuditInbox()
        self.inbox = inbox
        follower = settings.file.map {
            APIAuditFileFollower(path: $0, stateDirectory: settings.stateDirectory, encoder: encoder, selection: settings.stages,
                                 index: index, inbox: inbox, diagnostics: Diagnostics())
        }
        // Each webhook connection is a descriptor: room for the connection limit.
        if settings.webhook != nil { _ = ResourceLimits.raiseOpenFiles() }
        webhook = try settings.webhook.map { (webhook) throws(APIAuditWebhook.ServerError) in
            try APIAuditWebhook(webhook, encoder: encoder, selection: settings.stages, index: index, inbox: inbox,
                                settledWrites: settledWrites, diagnostics: Diagnostics())
        }
    }

    package func start() {
        follower?.start()
        webhook?.start()
    }

    /// Writes the API events waiting (`write` returns the number of the output write that
    /// took them), then the `k8s_exec` events of the exec sessions answered by now.
    package func deliver(nowMilliseconds: Int64, write: ([UInt8]) throws(SinkError) -> UInt64) throws(SinkError) {
        for batch in inbox.take() {
            let number = try write(batch.lines)
            batch.handed(number)
        }
        let resolved = join.resolve(nowMilliseconds: nowMilliseconds)
        guard !resolved.isEmpty else { return }
        var w = JSONWriter(capacity: 1024)
        for (session, answer) in resolved {
            ExecJoinReport(session: session, answer: answer, epochMilliseconds: nowMilliseconds)
                .encode(into: &w, ecs: settings.ecs, staticFields: settings.staticFields)
        }
        sessionsAnswered += UInt64(resolved.count)
        _ = try write(w.buffer)
    }

    /// Keeps the log's read position up to what the outputs settled; callable from any
    /// thread (the outputs' own, as soon as they delivered).
    package var saveSettled: @Sendable (_ settledWrites: UInt64) -> Void {
        { [follower] in follower?.saveSettled(settledWrites: $0) }
    }

    /// Ends the file's follower; what it read is still in the inbox for `deliver`.
    package func stopReading() {
        follower?.stop()
    }

    /// Ends the webhook, after answering the batches the outputs settled by now.
    package func stop() {
        inbox.stop()
        webhook?.stop()
    }

    /// What the sources read and refused, for /metrics and the statistics line.
    package struct Counters: Sendable {
        /// API audit events read, by source (`file`, `webhook`).
        package var events: [(source: String, count: UInt64)] = []
        /// Lines or batches refused, by reason.
        package var rejected: [(reason: String, count: UInt64)] = []
        package var refusedClients: UInt64 = 0
        /// Batches answered 503 or 4xx.
        package var busyBatches: UInt64 = 0
        package var badBatches: UInt64 = 0
        /// Connections closed at a deadline or to make room.
        package var closedConnections: UInt64 = 0
        /// The log's rotations and truncations seen, and bytes of cut last lines dropped.
        package var rotations: UInt64 = 0
        package var truncations: UInt64 = 0
        package var partialBytesDropped: UInt64 = 0
        /// Exec sessions answered after their first events (`k8s_exec` events).
        package var sessionsAnswered: UInt64 = 0
        /// Exec requests held for the join, and the most it holds.
        package var execRequests = 0
        package var execRequestCapacity = 0

        package init() {}
    }

    package var counters: Counters {
        var counters = Counters()
        counters.execRequests = index.count
        counters.execRequestCapacity = index.capacity
        var streams: [(String, APIAuditStream.Counters)] = []
        if let file = follower?.currentCounters {
            streams.append(("file", file.stream))
            counters.rotations = file.rotations
            counters.truncations = file.truncations
            counters.partialBytesDropped = file.partialBytesDropped
        }
        if let webhook = webhook?.currentCounters {
            streams.append(("webhook", webhook.stream))
            counters.refusedClients = webhook.refusedClients
            counters.busyBatches = webhook.busy
            counters.badBatches = webhook.badRequests
            counters.closedConnections = webhook.closedConnections
        }
        counters.events = streams.map { ($0.0, $0.1.events) }
        let total = streams.reduce(APIAuditStream.Counters()) { sum, next in
            var sum = sum
            sum.malformed += next.1.malformed
            sum.unknownAPIVersion += next.1.unknownAPIVersion
            sum.notEvents += next.1.notEvents
            sum.tooLong += next.1.tooLong
            return sum
        }
        counters.rejected = [("not_json", total.malformed), ("unknown_api_version", total.unknownAPIVersion),
                             ("not_an_event", total.notEvents), ("too_long", total.tooLong)]
        counters.sessionsAnswered = sessionsAnswered
        return counters
    }
}
