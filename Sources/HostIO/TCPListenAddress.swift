import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// A TCP address to listen on, `ADDRESS:PORT` (IPv4, or `[IPv6]:PORT`: `[::]` takes IPv4
/// too, and falls back to IPv4 on a node without IPv6): the health server's and the API
/// audit webhook's.
public struct TCPListenAddress: Sendable {
    public let text: String
    public let host: String
    public let port: UInt16

    public init(_ text: String) throws(AddressError) {
        guard let separator = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: separator)...]) else {
            throw AddressError(description: "ADDRESS:PORT expected, not '\(text)'")
        }
        var host = String(text[..<separator])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        var probe = in6_addr()
        guard host.isEmpty || inet_pton(AF_INET, host, &probe) == 1 || inet_pton(AF_INET6, host, &probe) == 1 else {
            throw AddressError(description: "'\(host)' in '\(text)' is not an IPv4 or IPv6 address")
        }
        self.text = text
        self.host = host
        self.port = port
    }

    public struct AddressError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public enum Outcome {
        case listening(Int32)
        case inUse
        case failed(String)
    }

    /// A non-blocking listening socket, `.inUse` when another process holds the port.
    public func bind() -> Outcome {
        if host.contains(":") {
            let outcome = bindIPv6()
            // `[::]` on a node whose kernel has no IPv6: every IPv4 address instead.
            if case .failed = outcome, host == "::", errno == EAFNOSUPPORT { return bindIPv4("0.0.0.0") }
            return outcome
        }
        return bindIPv4(host.isEmpty ? "0.0.0.0" : host)
    }

    private func bindIPv6() -> Outcome {
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = port.bigEndian
        inet_pton(AF_INET6, host, &address.sin6_addr)
        return listen(on: address, family: AF_INET6, dualStack: true)
    }

    private func bindIPv4(_ host: String) -> Outcome {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        inet_pton(AF_INET, host, &address.sin_addr)
        return listen(on: address, family: AF_INET, dualStack: false)
    }

    /// A listening socket of `family` bound to `address` (a `sockaddr_in` or `sockaddr_in6`).
    private func listen<Address>(on address: Address, family: Int32, dualStack: Bool) -> Outcome {
        var address = address
        return listen(family: family, dualStack: dualStack) { fd in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(fd, $0, socklen_t(MemoryLayout<Address>.size)) }
            }
        }
    }

    private func listen(family: Int32, dualStack: Bool, bind: (Int32) -> Int32) -> Outcome {
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return .failed(SystemError.text(errno)) }
        var yes: Int32 = 1
        var no: Int32 = 0
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        if dualStack { setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &no, socklen_t(MemoryLayout<Int32>.size)) }
        guard bind(fd) == 0, Glibc.listen(fd, 1024) == 0 else {
            let error = errno
            Glibc.close(fd)
            errno = error
            return error == EADDRINUSE ? .inUse : .failed(SystemError.text(error))
        }
        return .listening(fd)
    }
}
