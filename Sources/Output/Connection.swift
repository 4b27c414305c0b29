import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// A connected socket to a collector, TLS on top when asked: what the syslog and HTTP
/// outputs both need, in one place.
struct Connection {
    let descriptor: Int32
    let tls: TLSStream?

    /// Resolves `host` and connects to the first address that answers. Send and receive
    /// time out after `timeoutSeconds`, so a hung collector cannot hold a delivery thread.
    static func open(host: String, port: UInt16, datagram: Bool, tls settings: TLSSettings?, timeoutSeconds: Int,
                     describing name: String) throws(SinkError) -> Connection {
        var hints = addrinfo()
        hints.ai_socktype = datagram ? Int32(SOCK_DGRAM.rawValue) : Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let first = result else {
            throw SinkError("\(name): cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        var entry: UnsafeMutablePointer<addrinfo>? = first
        var lastError = ECONNREFUSED
        while let info = entry {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.pointee.ai_protocol)
            if fd >= 0 {
                var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    guard let settings else { return Connection(descriptor: fd, tls: nil) }
                    do throws(SinkError) {
                        return Connection(descriptor: fd, tls: try TLSStream(descriptor: fd, host: host, settings: settings))
                    } catch {
                        close(fd)
                        throw SinkError("\(name): \(error.description)")
                    }
                }
                lastError = errno
                close(fd)
            }
            entry = info.pointee.ai_next
        }
        throw SinkError("\(name): \(SystemError.text(lastError))")
    }

    /// Sends every byte (over TLS when the connection has it).
    func send(_ bytes: ArraySlice<UInt8>, describing name: String) throws(SinkError) {
        if let tls {
            do throws(SinkError) { try tls.write(bytes) } catch { throw SinkError("\(name): \(error.description)") }
            return
        }
        var written = 0
        do throws(HostFile.FileError) {
            try HostFile.writeAll(descriptor, bytes, written: &written, path: name, socket: true)
        } catch {
            throw SinkError(error.description)
        }
    }
}
