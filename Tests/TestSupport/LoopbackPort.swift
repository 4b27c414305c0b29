import Foundation

/// Ports for the test servers (rsyslog, HTTP stores, sshd, nodeaudit's own listeners).
/// They are drawn below the kernel's ephemeral range (`ip_local_port_range`), where
/// connect() never puts a client socket: a port drawn inside it was once taken by some
/// other test's outgoing connection, and rsyslog then never listened.
public enum LoopbackPort {
    /// A port that nothing holds now, over TCP or UDP, on any address.
    public static func free() -> Int {
        let ceiling = min(ephemeralRangeStart, 32768) - 1
        while true {
            let port = Int.random(in: 20000...ceiling)
            if isFree(port, type: SOCK_STREAM), isFree(port, type: SOCK_DGRAM) { return port }
        }
    }

    private static var ephemeralRangeStart: Int {
        let text = (try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)) ?? ""
        return text.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) } ?? 32768
    }

    private static func isFree(_ port: Int, type: __socket_type) -> Bool {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = INADDR_ANY
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
