import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// The client side of the health socket: asks one running nodeaudit for `/healthz` (or
/// `/metrics`) over its unix socket. A pod's exec probes use it, since with the node's
/// network the TCP port may belong to the other pod of a hand-over.
package enum HealthProbe {
    package struct Answer: Sendable {
        /// The HTTP status, nil when no answer came.
        package var status: Int?
        package var body: String
    }

    /// GET `path` from the server at `socketPath`, within `timeoutMilliseconds`.
    package static func get(_ path: String, socketPath: String, timeoutMilliseconds: Int32 = 3000) -> Answer {
        guard var address = sockaddr_un(path: socketPath) else { return Answer(status: nil, body: "\(socketPath): too long for a unix socket") }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return Answer(status: nil, body: SystemError.text(errno)) }
        defer { close(fd) }
        var timeout = timeval(tv_sec: Int(timeoutMilliseconds / 1000), tv_usec: Int(timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { return Answer(status: nil, body: "\(socketPath): \(SystemError.text(errno))") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: nodeaudit\r\nConnection: close\r\n\r\n".utf8)
        guard request.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == request.count else {
            return Answer(status: nil, body: "\(socketPath): \(SystemError.text(errno))")
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while response.count < 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            response += chunk[..<n]
        }
        let text = String(decoding: response, as: UTF8.self)
        // "HTTP/1.1 200 OK\r\n…\r\n\r\nbody"
        let words = text.prefix { $0 != "\r" && $0 != "\n" }.split(separator: " ")
        guard words.count >= 2, words[0].hasPrefix("HTTP/"), let status = Int(words[1]) else {
            return Answer(status: nil, body: "\(socketPath): no HTTP answer")
        }
        let separator = Array("\r\n\r\n".utf8)
        let body = response.firstRange(of: separator).map { String(decoding: response[$0.upperBound...], as: UTF8.self) } ?? ""
        return Answer(status: status, body: body)
    }
}
