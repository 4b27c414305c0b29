import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// `/healthz` and `/metrics` over plain HTTP, for the kubelet's probes and Prometheus.
///
/// It serves what the collector last published from its own thread, so a request never
/// touches the reader: healthy means the read loop went round within `staleAfter`
/// milliseconds; metrics are the counters of the last publication.
///
/// In a DaemonSet the port is on the node's network, where every pod can reach it, so no
/// client may stall it: one thread serves every connection through epoll, without ever
/// blocking on one; a connection has `requestMilliseconds` to send its request (at most
/// `maxRequestBytes`); past `maxConnections` the oldest connection is closed to admit
/// the new one; garbage is answered 400 and closed. The process never waits for this
/// thread to stop.
package final class HealthServer: @unchecked Sendable {
    package struct Published {
        package var heartbeatMilliseconds: UInt64 = 0
        package var metrics = ""
    }

    package struct Limits {
        /// Connections served at once; the oldest is closed to admit one more.
        package var maxConnections = 1024
        /// Time from accept to a complete request, and to the answer sent.
        package var requestMilliseconds: UInt64 = 3000
        /// The largest request head (request line and headers) read.
        package var maxRequestBytes = 4096

        package init() {}
    }

    /// The thread that serves (debug builds check that no other does).
    private var owner = ThreadOwner("HealthServer")
    /// The TCP listener, once bound: during a hand-over the previous run still holds the
    /// port, and this one binds it when it is free (so a probe or a scrape never reaches
    /// the other process, as it would if both listened at once).
    private var tcpListener: Int32?
    private let tcpAddress: TCPListenAddress?
    /// The unix socket in the container's own filesystem: what reaches this very process
    /// (`nodeaudit health`, the pod's exec probes), whoever holds the TCP port.
    private let unixListener: Int32?
    private let poll: EventPoll
    private let limits: Limits
    private let state = Monitor(Published())
    private let staleAfterMilliseconds: UInt64 = 10_000
    private static let bindRetryMilliseconds: UInt64 = 1000
    private var nextBindAttempt: UInt64 = 0

    /// One client: what it sent so far, what is left to send it, and its deadline.
    private struct Connection {
        package var request: [UInt8] = []
        package var response: [UInt8] = []
        package var sent = 0
        /// Answered and shut for writing: what still comes is read and dropped until the
        /// client closes (or the deadline), so that closing never resets the connection
        /// before the client has read the answer.
        package var lingering = false
        package let number: UInt64
        package let deadline: UInt64
    }

    private var connections: [Int32: Connection] = [:]
    /// Accepted connections, oldest first, so also by deadline (closed ones are skipped
    /// when met, recognised by their number when the descriptor was reused).
    private var acceptOrder: [(fd: Int32, number: UInt64, deadline: UInt64)] = []
    private var acceptOrderStart = 0
    private var accepted: UInt64 = 0

    /// Listens on `listen`, `ADDRESS:PORT` (IPv4, `[IPv6]:PORT`: `[::]` takes IPv4 too, and
    /// falls back to IPv4 on a node without IPv6), and on the unix socket `socketPath`;
    /// at least one. A TCP port another process holds is bound as soon as it is free, and
    /// `waitingForPort` says so meanwhile.
    package init(listen: String?, socketPath: String?, limits: Limits = Limits()) throws(ServerError) {
        self.limits = limits
        let address = try listen.map { (text) throws(ServerError) in
            do throws(TCPListenAddress.AddressError) { return try TCPListenAddress(text) } catch { throw ServerError("health.listen: \(error)") }
        }
        var unixListener: Int32?
        if let socketPath { unixListener = try Self.listenUnix(socketPath) }
        do throws(HostFile.FileError) {
            poll = try EventPoll()
        } catch {
            if let unixListener { Glibc.close(unixListener) }
            throw ServerError("cannot serve /healthz: \(error)")
        }
        tcpAddress = address
        self.unixListener = unixListener
        if let unixListener { poll.watch(unixListener, for: .readable) }
        if let address {
            switch address.bind() {
            case .listening(let fd):
                tcpListener = fd
                poll.watch(fd, for: .readable)
            case .inUse:
                break
            case .failed(let reason):
                closeListeners()
                throw ServerError("cannot listen on \(address.text): \(reason)")
            }
        }
    }

    /// The TCP address is held by another process (the previous run, in a hand-over).
    package var waitingForPort: Bool { tcpAddress != nil && tcpListener == nil }

    private func closeListeners() {
        if let unixListener { Glibc.close(unixListener) }
        if let tcpListener { Glibc.close(tcpListener) }
    }

    /// A unix stream socket at `path` (a stale one from an earlier run is replaced).
    private static func listenUnix(_ path: String) throws(ServerError) -> Int32 {
        guard var address = sockaddr_un(path: path) else { throw ServerError("the socket path \(path) is too long for a unix socket") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw ServerError("cannot open a socket for \(path): \(SystemError.text(errno))") }
        var info = stat()
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFSOCK { unlink(path) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, chmod(path, 0o600) == 0, Glibc.listen(fd, 64) == 0 else {
            let reason = SystemError.text(errno)
            Glibc.close(fd)
            throw ServerError("cannot listen on \(path): \(reason)")
        }
        return fd
    }

    package struct ServerError: Error, CustomStringConvertible {
        package var description: String
        package init(_ description: String) { self.description = description }
    }

    /// Serves requests on a thread of its own until the process ends.
    package func start() {
        WorkerThread.detach { self.serve() }
    }

    /// Called by the collector's loop: it is alive, and these are its counters.
    package func publish(nowMilliseconds: UInt64, metrics: String?) {
        state.withLock { published in
            published.heartbeatMilliseconds = nowMilliseconds
            if let metrics { published.metrics = metrics }
        }
    }

    // MARK: - The event loop

    private func serve() {
        owner.check()
        while true {
            let now = MonotonicClock.nowMilliseconds()
            closeExpired(now: now)
            let wait = nextDeadline().map { Int32(clamping: $0 > now ? $0 - now : 0) } ?? 1000
            // Clients first: a request that has arrived is answered before new
            // connections may push its connection out.
            var ready: [Int32] = []
            poll.wait(milliseconds: min(wait, 1000)) { fd, events in
                if fd == tcpListener || fd == unixListener { ready.append(fd) } else { serviceClient(fd, events: events) }
            }
            for listener in ready { acceptAll(listener) }
            if waitingForPort { retryBind() }
        }
    }

    /// Binds the TCP port once the process that held it let it go.
    private func retryBind() {
        let now = MonotonicClock.nowMilliseconds()
        guard let tcpAddress, now >= nextBindAttempt else { return }
        nextBindAttempt = now + Self.bindRetryMilliseconds
        if case .listening(let fd) = tcpAddress.bind() {
            tcpListener = fd
            poll.watch(fd, for: .readable)
        }
    }

    private func acceptAll(_ listener: Int32) {
        EventPoll.acceptAll(listener, isFull: { connections.count >= limits.maxConnections }, canMakeRoom: { !connections.isEmpty },
                            makeRoom: closeOldest) { fd in
            let deadline = MonotonicClock.nowMilliseconds() + limits.requestMilliseconds
            accepted += 1
            connections[fd] = Connection(number: accepted, deadline: deadline)
            acceptOrder.append((fd, accepted, deadline))
            poll.watch(fd, for: [.readable, .peerClosed])
        }
    }

    private func serviceClient(_ fd: Int32, events: EventPoll.Interest) {
        guard var connection = connections[fd] else { return }
        if !events.isDisjoint(with: .failed) { return drop(fd) }
        if connection.lingering { return discardInput(fd) }
        if connection.response.isEmpty {
            var chunk = [UInt8](repeating: 0, count: 1024)
            while connection.response.isEmpty {
                let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if n < 0, errno == EINTR { continue }
                if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { break }
                if n <= 0 { return drop(fd) }
                connection.request += chunk[..<n]
                if let answer = answer(to: connection.request) { connection.response = answer }
            }
            if connection.response.isEmpty {
                connections[fd] = connection
                return
            }
            // Nothing more is read from it: only writability matters now.
            poll.watch(fd, for: .writable, modifying: true)
        }
        while connection.sent < connection.response.count {
            let n = connection.response.withUnsafeBytes {
                send(fd, $0.baseAddress! + connection.sent, $0.count - connection.sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                connections[fd] = connection
                return
            }
            if n <= 0 { return drop(fd) }
            connection.sent += n
        }
        connection.lingering = true
        connection.response = []
        connection.request = []
        connections[fd] = connection
        shutdown(fd, Int32(SHUT_WR))
        poll.watch(fd, for: [.readable, .peerClosed], modifying: true)
        discardInput(fd)
    }

    /// Reads and drops what a client still sends after its answer; closes at its end.
    /// At most 64 KiB a turn: a client that keeps sending must not hold the thread (its
    /// deadline closes it).
    private func discardInput(_ fd: Int32) {
        var sink = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<16 {
            let n = sink.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 { continue }
            if n < 0, errno == EINTR { continue }
            if n < 0, errno == EAGAIN || errno == EWOULDBLOCK { return }
            return drop(fd)
        }
    }

    /// The answer to a request head, nil while it is still incomplete.
    private func answer(to request: [UInt8]) -> [UInt8]? {
        guard let end = request.firstRange(of: Self.headEnd) ?? request.firstRange(of: Self.bareHeadEnd) else {
            if request.count > limits.maxRequestBytes { return Self.response("431 Request Header Fields Too Large", "request too large\n") }
            // A request line that cannot start an HTTP request is garbage already.
            if let first = request.first, !(UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(first) {
                return Self.response("400 Bad Request", "not an HTTP request\n")
            }
            return nil
        }
        let head = request[..<end.lowerBound]
        let line = head.prefix { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }
        let words = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard words.count == 3, words[2].starts(with: Array("HTTP/1.".utf8)) else {
            return Self.response("400 Bad Request", "not an HTTP request\n")
        }
        let method = String(decoding: words[0], as: UTF8.self)
        let target = words[1].prefix { $0 != UInt8(ascii: "?") }
        let path = String(decoding: target, as: UTF8.self)
        let published = state.withLock { $0 }
        let (status, contentType, body): (String, String, String)
        switch (method, path) {
        case ("GET", "/healthz"), ("HEAD", "/healthz"):
            let now = WallClock.nowMilliseconds()
            let alive = published.heartbeatMilliseconds > 0 && now - published.heartbeatMilliseconds < staleAfterMilliseconds
            (status, contentType, body) = alive
                ? ("200 OK", "text/plain", "ok\n")
                : ("503 Service Unavailable", "text/plain", "the audit reader has not run for \(staleAfterMilliseconds / 1000) s\n")
        case ("GET", "/metrics"), ("HEAD", "/metrics"):
            (status, contentType, body) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", published.metrics)
        case ("GET", _), ("HEAD", _):
            (status, contentType, body) = ("404 Not Found", "text/plain", "nodeaudit serves /healthz and /metrics\n")
        default:
            (status, contentType, body) = ("405 Method Not Allowed", "text/plain", "GET only\n")
        }
        return Self.response(status, body, contentType: contentType, withBody: method != "HEAD")
    }

    private static let headEnd = Array("\r\n\r\n".utf8)
    private static let bareHeadEnd = Array("\n\n".utf8)

    private static func response(_ status: String, _ body: String, contentType: String = "text/plain", withBody: Bool = true) -> [UInt8] {
        var text = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        if withBody { text += body }
        return Array(text.utf8)
    }

    // MARK: - Bookkeeping

    private func drop(_ fd: Int32) {
        guard connections.removeValue(forKey: fd) != nil else { return }
        Glibc.close(fd)  // also leaves the epoll set
    }

    /// The oldest live entry of `acceptOrder`, skipping those already closed (or whose
    /// descriptor number was reused by a later connection).
    private func oldest() -> (fd: Int32, number: UInt64, deadline: UInt64)? {
        while acceptOrderStart < acceptOrder.count {
            let entry = acceptOrder[acceptOrderStart]
            if connections[entry.fd]?.number == entry.number { return entry }
            acceptOrderStart += 1
        }
        acceptOrder.removeAll(keepingCapacity: true)
        acceptOrderStart = 0
        return nil
    }

    private func closeOldest() {
        if let entry = oldest() { drop(entry.fd) }
    }

    private func closeExpired(now: UInt64) {
        while let entry = oldest(), entry.deadline <= now { drop(entry.fd) }
        if acceptOrderStart > 4096, acceptOrderStart * 2 > acceptOrder.count {
            acceptOrder.removeFirst(acceptOrderStart)
            acceptOrderStart = 0
        }
    }

    private func nextDeadline() -> UInt64? { oldest()?.deadline }
}
