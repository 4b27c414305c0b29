import Enrichment
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `/healthz` and `/metrics` over plain HTTP, for the kubelet's probes and Prometheus.
///
/// It serves what the collector last published from its own thread, so a request never
/// touches the reader: healthy means the read loop went round within `staleAfter`
/// milliseconds; metrics are the counters of the last publication.
final class HealthServer: @unchecked Sendable {
    struct Published {
        var heartbeatMilliseconds: UInt64 = 0
        var metrics = ""
    }

    private let descriptor: Int32
    private let state = Mutex(Published())
    private let staleAfterMilliseconds: UInt64 = 10_000

    /// Listens on `ADDRESS:PORT` (IPv4, `[IPv6]:PORT`, or `:PORT` for every address).
    init(listen address: String) throws(ServerError) {
        guard let separator = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: separator)...]) else {
            throw ServerError("--listen takes ADDRESS:PORT, not '\(address)'")
        }
        var host = String(address[..<separator])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let isV6 = host.contains(":")
        descriptor = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw ServerError("cannot open a socket for \(address): \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound: Int32
        if isV6 {
            var socketAddress = sockaddr_in6()
            socketAddress.sin6_family = sa_family_t(AF_INET6)
            socketAddress.sin6_port = port.bigEndian
            guard inet_pton(AF_INET6, host, &socketAddress.sin6_addr) == 1 else {
                close(descriptor)
                throw ServerError("'\(host)' is not an IPv6 address")
            }
            bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) }
            }
        } else {
            var socketAddress = sockaddr_in()
            socketAddress.sin_family = sa_family_t(AF_INET)
            socketAddress.sin_port = port.bigEndian
            guard inet_pton(AF_INET, host.isEmpty ? "0.0.0.0" : host, &socketAddress.sin_addr) == 1 else {
                close(descriptor)
                throw ServerError("'\(host)' is not an IPv4 address")
            }
            bound = withUnsafePointer(to: &socketAddress) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
        guard bound == 0, listen(descriptor, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw ServerError("cannot listen on \(address): \(reason)")
        }
    }

    struct ServerError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Serves requests on a thread of its own until the process ends.
    func start() {
        var thread = pthread_t()
        let retained = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { argument in
            Unmanaged<HealthServer>.fromOpaque(argument!).takeRetainedValue().serve()
            return nil
        }, retained)
        pthread_detach(thread)
    }

    /// Called by the collector's loop: it is alive, and these are its counters.
    func publish(nowMilliseconds: UInt64, metrics: String?) {
        state.withLock { published in
            published.heartbeatMilliseconds = nowMilliseconds
            if let metrics { published.metrics = metrics }
        }
    }

    private func serve() {
        while true {
            let client = accept(descriptor, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            respond(client)
            close(client)
        }
    }

    private func respond(_ client: Int32) {
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request = [UInt8](repeating: 0, count: 2048)
        let count = read(client, &request, request.count)
        guard count > 0 else { return }
        let line = request[..<count].split(separator: UInt8(ascii: "\r"), maxSplits: 1).first ?? []
        let words = line.split(separator: UInt8(ascii: " "))
        let method = words.first.map { String(decoding: $0, as: UTF8.self) } ?? ""
        let path = words.count > 1 ? String(decoding: words[1], as: UTF8.self) : ""

        let published = state.withLock { $0 }
        let (status, contentType, body): (String, String, String)
        switch (method, path.split(separator: "?").first.map(String.init) ?? path) {
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
        var response = "HTTP/1.1 \(status)\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n"
        if method != "HEAD" { response += body }
        var bytes = Array(response.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(client, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }
}
