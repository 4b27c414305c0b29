import COpenSSL
import HostIO
import KubernetesAudit
import Pipeline
import Output
#if canImport(Glibc)
import Glibc
#endif

/// The API server's webhook audit backend (`k8s_audit.webhook.*`): HTTPS on one thread,
/// each batch (`EventList`) answered 200 only once its events are in every output's queue
/// or spool and settled there, so that nothing acknowledged can be lost.
///
/// The port is on the node's network, where every pod can reach it: a client must present
/// a certificate signed by the configured CA before a byte of HTTP is read; no client can
/// stall another (one epoll thread, non-blocking TLS); a connection has a deadline for its
/// handshake, for each request and while idle; bodies are bounded, each and in all; past
/// `maxConnections` the oldest connection not yet authenticated is closed first.
package final class APIAuditWebhook: @unchecked Sendable {
    package struct Settings: Sendable {
        package var listen: TCPListenAddress
        package var certificateFile: String
        package var keyFile: String
        package var clientCAFile: String
        package var maxBodyBytes: Int

        package init(listen: TCPListenAddress, certificateFile: String, keyFile: String, clientCAFile: String, maxBodyBytes: Int) {
            self.listen = listen
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.clientCAFile = clientCAFile
            self.maxBodyBytes = maxBodyBytes
        }
    }

    package struct Counters: Sendable, Equatable {
        package var stream = APIAuditStream.Counters()
        /// Batches answered 200.
        package var batches: UInt64 = 0
        /// Clients refused in the handshake (no certificate, or one the CA did not sign).
        package var refusedClients: UInt64 = 0
        /// Requests answered 4xx (not a POST, no length, too large, not audit events).
        package var badRequests: UInt64 = 0
        /// Batches answered 503: the inbox was full, or the outputs did not settle in time.
        package var busy: UInt64 = 0
        /// Connections closed at a deadline or to make room.
        package var closedConnections: UInt64 = 0
    }

    package struct Limits: Sendable {
        package var maxConnections = 1024
        package var handshakeMilliseconds: UInt64 = 10_000
        /// From a request's first byte to its last.
        package var requestMilliseconds: UInt64 = 30_000
        package var idleMilliseconds: UInt64 = 60_000
        /// How long a batch waits for the outputs to settle it before 503.
        package var settleMilliseconds: UInt64 = 30_000
        package var maxHeadBytes = 16 * 1024

        package init() {}
    }

    private enum Phase {
        case handshake
        case head
        case body(length: Int, headBytes: Int, keepAlive: Bool)
        case waiting(ticket: UInt64, keepAlive: Bool)
        case answering(keepAlive: Bool)
    }

    private struct Connection {
        let fd: Int32
        let ssl: OpaquePointer
        let number: UInt64
        var phase: Phase = .handshake
        var input: [UInt8] = []
        var output: [UInt8] = []
        var sent = 0
        var deadline: UInt64
        var isAuthenticated: Bool { if case .handshake = phase { false } else { true } }
        var isWaiting: Bool { if case .waiting = phase { true } else { false } }
        var isIdle: Bool { if case .head = phase { true } else { false } }
        var isWaitingOrAnswering: Bool {
            switch phase {
            case .waiting, .answering: return true
            default: return false
            }
        }
    }

    private let settings: Settings
    private let limits: Limits
    private let context: OpaquePointer
    private let listener: Int32
    private let poll: EventPoll
    private let inbox: APIAuditInbox
    private let settledWrites: @Sendable () -> UInt64
    private let diagnostics: Diagnostics
    private var stream: APIAuditStream!
    private var batchLines: [UInt8] = []
    private var connections: [Int32: Connection] = [:]
    private var accepted: UInt64 = 0
    private var nextTicket: UInt64 = 0
    /// Ticket → the output write that took its batch (the read loop fills it).
    private let handed = Monitor([UInt64: UInt64]())
    private let stopSignal = Monitor(false)
    private var thread: WorkerThread?
    private var counters = Counters()
    private let published = Monitor(Counters())

    /// Binds the port and loads the certificates; the thread starts with `start`.
    package init(_ settings: Settings, limits: Limits = Limits(), encoder: APIEventEncoder, selection: StageSelection, index: ExecRequestIndex?,
                 inbox: APIAuditInbox, settledWrites: @escaping @Sendable () -> UInt64, diagnostics: Diagnostics) throws(ServerError) {
        self.settings = settings
        self.limits = limits
        self.inbox = inbox
        self.settledWrites = settledWrites
        self.diagnostics = diagnostics
        context = try Self.serverContext(settings)
        switch settings.listen.bind() {
        case .listening(let fd): listener = fd
        case .inUse:
            SSL_CTX_free(context)
            throw ServerError("k8s_audit.webhook.listen: \(settings.listen.text) is in use")
        case .failed(let reason):
            SSL_CTX_free(context)
            throw ServerError("k8s_audit.webhook.listen: cannot listen on \(settings.listen.text): \(reason)")
        }
        do throws(HostFile.FileError) {
            poll = try EventPoll()
        } catch {
            close(listener)
            SSL_CTX_free(context)
            throw ServerError("k8s_audit.webhook: \(error)")
        }
        poll.watch(listener, for: .readable)
        stream = APIAuditStream(encoder: encoder, selection: selection, index: index, write: { [unowned self] in batchLines += $0 },
                                problem: { [diagnostics] in diagnostics.inputProblem($0, $1) })
    }

    package struct ServerError: Error, CustomStringConvertible {
        package var description: String
        init(_ description: String) { self.description = description }
    }

    /// TLS 1.2 or later, the server's certificate, and client certificates required and
    /// verified against the client CA.
    private static func serverContext(_ settings: Settings) throws(ServerError) -> OpaquePointer {
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw ServerError("k8s_audit.webhook: TLS: \(OpenSSLError.last())") }
        nodeaudit_ssl_ctx_require_tls12(context)
        nodeaudit_ssl_ctx_allow_partial_writes(context)
        guard SSL_CTX_use_certificate_chain_file(context, settings.certificateFile) == 1 else {
            SSL_CTX_free(context)
            throw ServerError("k8s_audit.webhook.certificate \(settings.certificateFile): \(OpenSSLError.last())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, settings.keyFile, SSL_FILETYPE_PEM) == 1, SSL_CTX_check_private_key(context) == 1 else {
            SSL_CTX_free(context)
            throw ServerError("k8s_audit.webhook.key \(settings.keyFile): \(OpenSSLError.last())")
        }
        guard SSL_CTX_load_verify_locations(context, settings.clientCAFile, nil) == 1, let names = SSL_load_client_CA_file(settings.clientCAFile) else {
            SSL_CTX_free(context)
            throw ServerError("k8s_audit.webhook.client_ca \(settings.clientCAFile): \(OpenSSLError.last())")
        }
        SSL_CTX_set_client_CA_list(context, names)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        return context
    }

    package func start() {
        thread = WorkerThread.start { [self] in serve() }
    }

    /// Ends the thread: answers already due are sent first (for at most a second).
    package func stop() {
        stopSignal.update { $0 = true }
        thread?.join()
        thread = nil
        for fd in Array(connections.keys) { drop(fd) }
        close(listener)
        SSL_CTX_free(context)
    }

    /// The read loop: the batch with this ticket went out in output write `write`.
    private func markHanded(_ ticket: UInt64, write: UInt64) {
        handed.withLock { $0[ticket] = write }
    }

    package var currentCounters: Counters { published.withLock { $0 } }

    // MARK: - The event loop

    private func serve() {
        var stoppingSince: UInt64?
        while true {
            let now = MonotonicClock.nowMilliseconds()
            if stoppingSince == nil, stopSignal.withLock({ $0 }) { stoppingSince = now }
            if let since = stoppingSince, now - since > 1000 || !connections.values.contains(where: \.isWaitingOrAnswering) { break }
            answerSettled(now: now)
            closeExpired(now: now)
            let waiting = connections.values.contains { $0.isWaiting }
            let wait: Int32 = waiting || stoppingSince != nil ? 10 : 1000
            var acceptReady = false
            poll.wait(milliseconds: wait) { fd, events in
                if fd == listener { acceptReady = true } else { service(fd, events: events) }
            }
            if acceptReady, stoppingSince == nil { acceptAll() }
            counters.stream = stream.counters
            published.withLock { [counters] in $0 = counters }
        }
    }

    private func acceptAll() {
        EventPoll.acceptAll(listener, isFull: { connections.count >= limits.maxConnections }, canMakeRoom: { !connections.isEmpty },
                            makeRoom: closeOldest) { fd in
            guard let ssl = SSL_new(context) else {
                close(fd)
                return
            }
            SSL_set_fd(ssl, fd)
            SSL_set_accept_state(ssl)
            accepted += 1
            connections[fd] = Connection(fd: fd, ssl: ssl, number: accepted, deadline: MonotonicClock.nowMilliseconds() + limits.handshakeMilliseconds)
            poll.watch(fd, for: [.readable, .peerClosed])
        }
    }

    private func service(_ fd: Int32, events: EventPoll.Interest) {
        guard var connection = connections[fd] else { return }
        if !events.isDisjoint(with: .failed) { return drop(fd) }
        defer { if connections[fd] != nil { connections[fd] = connection } }
        while true {
            switch connection.phase {
            case .handshake:
                let result = SSL_accept(connection.ssl)
                if result == 1 {
                    connection.phase = .head
                    connection.deadline = MonotonicClock.nowMilliseconds() + limits.idleMilliseconds
                    continue
                }
                if !wantsMore(connection, result) {
                    let reason = OpenSSLError.last()
                    ERR_clear_error()
                    counters.refusedClients += 1
                    // The first is said; the rest (a port scan, a misconfigured client) counted.
                    if counters.refusedClients == 1 {
                        diagnostics.warning("k8s_audit.webhook: a client was refused in the TLS handshake (\(reason)); "
                            + "further refusals are counted (k8s_webhook_refused_clients)")
                    }
                    return drop(fd)
                }
                return
            case .head, .body:
                let wasIdle = connection.input.isEmpty && connection.isIdle
                guard read(&connection) else { return drop(fd) }
                // Bodies in flight are bounded in all too: four batches of the largest size.
                if connection.input.count > limits.maxHeadBytes,
                   connections.values.reduce(connection.input.count, { $0 + ($1.fd == fd ? 0 : $1.input.count) }) > 4 * settings.maxBodyBytes {
                    counters.busy += 1
                    connection.input = []
                    return answer(&connection, 503, "too many batches in flight; retry", keepAlive: false)
                }
                // A request's first byte starts its deadline.
                if wasIdle, !connection.input.isEmpty { connection.deadline = MonotonicClock.nowMilliseconds() + limits.requestMilliseconds }
                guard handleInput(&connection) else { return }
            case .waiting:
                // Nothing is read while a batch waits for the outputs: the client waits too.
                if events.contains(.peerClosed) { return drop(fd) }
                return
            case .answering(let keepAlive):
                guard write(&connection) else { return drop(fd) }
                guard connection.sent == connection.output.count else { return }
                guard keepAlive else { return drop(fd) }
                connection.output = []
                connection.sent = 0
                connection.phase = .head
                connection.deadline = MonotonicClock.nowMilliseconds() + limits.idleMilliseconds
                poll.watch(fd, for: [.readable, .peerClosed], modifying: true)
                if connection.input.isEmpty { return }
            }
        }
    }

    /// Whether a TLS call that returned `result` only waits for the socket (and for which way).
    private func wantsMore(_ connection: Connection, _ result: Int32) -> Bool {
        switch SSL_get_error(connection.ssl, result) {
        case SSL_ERROR_WANT_READ:
            poll.watch(connection.fd, for: [.readable, .peerClosed], modifying: true)
            return true
        case SSL_ERROR_WANT_WRITE:
            poll.watch(connection.fd, for: [.writable, .peerClosed], modifying: true)
            return true
        default:
            // The caller reads or clears the error queue.
            return false
        }
    }

    /// Reads what TLS has; false when the connection ended or failed.
    private func read(_ connection: inout Connection) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = chunk.withUnsafeMutableBytes { SSL_read(connection.ssl, $0.baseAddress, Int32($0.count)) }
            if count > 0 {
                connection.input += chunk[..<Int(count)]
                if connection.input.count > limits.maxHeadBytes + settings.maxBodyBytes { return false }
                continue
            }
            if wantsMore(connection, count) { return true }
            ERR_clear_error()
            return false
        }
    }

    /// Parses what was read; false when nothing more can be done until more comes.
    private func handleInput(_ connection: inout Connection) -> Bool {
        switch connection.phase {
        case .head:
            guard let end = connection.input.firstRange(of: Self.headEnd) else {
                if connection.input.count > limits.maxHeadBytes { answer(&connection, 431, "request head too large", keepAlive: false) }
                return false
            }
            let head = Array(connection.input[..<end.lowerBound])
            switch Self.parseHead(head) {
            case .failure(let refusal):
                counters.badRequests += 1
                answer(&connection, refusal.status, refusal.reason, keepAlive: false)
            case .success(let request):
                guard request.length <= settings.maxBodyBytes else {
                    counters.badRequests += 1
                    answer(&connection, 413, "a batch of \(request.length) bytes; at most \(settings.maxBodyBytes)", keepAlive: false)
                    return true
                }
                connection.phase = .body(length: request.length, headBytes: end.upperBound, keepAlive: request.keepAlive)
            }
            return true
        case .body(let length, let headBytes, let keepAlive):
            guard connection.input.count >= headBytes + length else { return false }
            let body = connection.input[headBytes..<(headBytes + length)]
            connection.input.removeFirst(headBytes + length)
            accept(body, on: &connection, keepAlive: keepAlive)
            return true
        default:
            return false
        }
    }

    /// A complete batch: into the inbox, answered once settled; 400 when it holds no
    /// audit events, 503 when the inbox is full.
    private func accept(_ body: ArraySlice<UInt8>, on connection: inout Connection, keepAlive: Bool) {
        let before = stream.counters
        do { try stream.add(body, location: "k8s_audit.webhook") } catch {}
        if stream.counters.rejected > before.rejected {
            counters.badRequests += 1
            batchLines.removeAll()
            return answer(&connection, 400, "not audit.k8s.io events (see nodeaudit's log)", keepAlive: keepAlive)
        }
        guard !batchLines.isEmpty else {
            counters.batches += 1
            return answer(&connection, 200, "", keepAlive: keepAlive)
        }
        nextTicket += 1
        let ticket = nextTicket
        let batch = APIAuditInbox.Batch(lines: batchLines) { [weak self] write in self?.markHanded(ticket, write: write) }
        batchLines.removeAll(keepingCapacity: true)
        guard inbox.put(batch, wait: false) else {
            counters.busy += 1
            return answer(&connection, 503, "nodeaudit's outputs are behind; retry", keepAlive: false)
        }
        connection.phase = .waiting(ticket: ticket, keepAlive: keepAlive)
        connection.deadline = MonotonicClock.nowMilliseconds() + limits.settleMilliseconds
    }

    /// Answers the batches the outputs settled.
    private func answerSettled(now: UInt64) {
        let waiting = connections.values.compactMap { connection -> (Int32, UInt64)? in
            if case .waiting(let ticket, _) = connection.phase { return (connection.fd, ticket) }
            return nil
        }
        guard !waiting.isEmpty else { return }
        let settled = settledWrites()
        let writes = handed.withLock { $0 }
        for (fd, ticket) in waiting {
            guard let write = writes[ticket], write <= settled, var connection = connections[fd],
                  case .waiting(_, let keepAlive) = connection.phase else { continue }
            handed.withLock { _ = $0.removeValue(forKey: ticket) }
            counters.batches += 1
            answer(&connection, 200, "", keepAlive: keepAlive)
            connections[fd] = connection
            service(fd, events: .writable)
        }
    }

    /// Queues an HTTP answer (JSON body) and starts sending it.
    private func answer(_ connection: inout Connection, _ status: Int, _ reason: String, keepAlive: Bool) {
        let text = Self.statusTexts[status] ?? "Error"
        var body = JSONWriter(capacity: 128)
        body.beginObject()
        if !reason.isEmpty { body.member("reason", reason) }
        body.endObject()
        let bodyBytes = body.buffer
        var head = "HTTP/1.1 \(status) \(text)\r\nContent-Type: application/json\r\nContent-Length: \(bodyBytes.count)\r\n"
        if status == 503 { head += "Retry-After: 1\r\n" }
        head += keepAlive ? "\r\n" : "Connection: close\r\n\r\n"
        connection.output = Array(head.utf8) + bodyBytes
        connection.sent = 0
        connection.phase = .answering(keepAlive: keepAlive)
        connection.deadline = MonotonicClock.nowMilliseconds() + limits.requestMilliseconds
        poll.watch(connection.fd, for: [.writable, .peerClosed], modifying: true)
    }

    /// Sends what TLS takes; false when the connection failed.
    private func write(_ connection: inout Connection) -> Bool {
        while connection.sent < connection.output.count {
            let count = connection.output.withUnsafeBytes { bytes in
                SSL_write(connection.ssl, bytes.baseAddress! + connection.sent, Int32(bytes.count - connection.sent))
            }
            if count > 0 {
                connection.sent += Int(count)
                continue
            }
            if wantsMore(connection, count) { return true }
            ERR_clear_error()
            return false
        }
        return true
    }

    // MARK: - HTTP

    private static let headEnd = Array("\r\n\r\n".utf8)
    private static let statusTexts: [Int: String] = [
        200: "OK", 400: "Bad Request", 405: "Method Not Allowed", 411: "Length Required", 413: "Content Too Large",
        431: "Request Header Fields Too Large", 503: "Service Unavailable",
    ]

    struct Request {
        var length: Int
        var keepAlive: Bool
    }

    struct Refusal: Error {
        var status: Int
        var reason: String
    }

    /// A POST with a Content-Length (the API server's webhook sends one); HTTP/1.1 keeps
    /// the connection unless it says close.
    static func parseHead(_ head: [UInt8]) -> Result<Request, Refusal> {
        let lines = head.split(separator: UInt8(ascii: "\n")).map { line in
            String(decoding: line.last == UInt8(ascii: "\r") ? line.dropLast() : line, as: UTF8.self)
        }
        guard let requestLine = lines.first else { return .failure(Refusal(status: 400, reason: "no request line")) }
        let words = requestLine.split(separator: " ")
        guard words.count == 3, words[2].hasPrefix("HTTP/1.") else { return .failure(Refusal(status: 400, reason: "not an HTTP/1 request")) }
        guard words[0] == "POST" else { return .failure(Refusal(status: 405, reason: "POST audit.k8s.io EventLists here")) }
        var length: Int?
        var keepAlive = words[2] == "HTTP/1.1"
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { return .failure(Refusal(status: 400, reason: "a header without a colon")) }
            let name = line[..<colon].lowercased()
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t")
            switch name {
            case "content-length":
                guard let number = Int(value), number >= 0, length == nil || length == number else {
                    return .failure(Refusal(status: 400, reason: "a bad Content-Length"))
                }
                length = number
            case "transfer-encoding":
                return .failure(Refusal(status: 411, reason: "send the batch with a Content-Length"))
            case "connection":
                let options = value.lowercased()
                if options.contains("close") { keepAlive = false } else if options.contains("keep-alive") { keepAlive = true }
            default:
                break
            }
        }
        guard let length else { return .failure(Refusal(status: 411, reason: "send the batch with a Content-Length")) }
        return .success(Request(length: length, keepAlive: keepAlive))
    }

    // MARK: - Bookkeeping

    private func closeExpired(now: UInt64) {
        for (fd, connection) in connections where connection.deadline <= now {
            if case .waiting(let ticket, _) = connection.phase {
                // The outputs did not settle the batch in time: the API server sends it again.
                handed.withLock { _ = $0.removeValue(forKey: ticket) }
                counters.busy += 1
                var late = connection
                answer(&late, 503, "nodeaudit's outputs did not take the batch in time; retry", keepAlive: false)
                connections[fd] = late
                continue
            }
            counters.closedConnections += 1
            // The first is said; the rest (idle or slow clients, a scan) counted.
            if counters.closedConnections == 1 {
                diagnostics.notice("k8s_audit.webhook: a connection was closed at its deadline (idle, or too slow to send its request); "
                    + "further ones are counted (k8s_webhook_closed_connections)")
            }
            drop(fd)
        }
    }

    /// Makes room: the oldest connection still in its handshake, else the oldest idle one.
    private func closeOldest() {
        let candidates = connections.values.filter { !$0.isWaitingOrAnswering }
        let victim = candidates.filter { !$0.isAuthenticated }.min { $0.number < $1.number }
            ?? candidates.min { $0.number < $1.number }
        guard let victim else { return }
        counters.closedConnections += 1
        drop(victim.fd)
    }

    private func drop(_ fd: Int32) {
        guard let connection = connections.removeValue(forKey: fd) else { return }
        SSL_free(connection.ssl)
        close(fd)
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        return String(drop { characters.contains($0) }.reversed().drop { characters.contains($0) }.reversed())
    }
}
