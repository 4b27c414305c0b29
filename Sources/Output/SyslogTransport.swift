#if canImport(Glibc)
import Glibc
#endif

/// Events as RFC 5424 syslog messages, one per event, the JSON as the message:
/// `<110>1 TIMESTAMP HOST nodeaudit PID audit - {"id":…}` (facility 13, log audit;
/// severity 6, informational). Over TCP and TLS each message is framed by its length
/// (RFC 6587 octet counting), so an event may hold any byte; over UDP each is one datagram.
public final class SyslogTransport: LineTransport {
    public enum Transport: String, Sendable { case tcp, tls, udp }

    public let host: String
    public let port: UInt16
    public let transportProtocol: Transport
    private let hostname: String
    private let tlsSettings: TLSSettings
    private var descriptor: Int32 = -1
    private var tls: TLSStream?

    public init(host: String, port: UInt16, protocol transportProtocol: Transport, hostname: String, tls: TLSSettings = TLSSettings()) {
        self.host = host
        self.port = port
        self.transportProtocol = transportProtocol
        self.tlsSettings = tls
        self.hostname = hostname.isEmpty ? "-" : String(hostname.prefix(255).map { $0 == " " ? "_" : $0 })
    }

    deinit { reset() }

    /// A syslog collector never refuses a message: nothing comes back.
    public func send(_ lines: ArraySlice<UInt8>) throws(SinkError) -> Refusal? {
        if descriptor < 0 { try connect() }
        var frames: [UInt8] = []
        frames.reserveCapacity(lines.count + lines.count / 8)
        let header = Array("<110>1 \(Self.timestamp()) \(hostname) nodeaudit \(getpid()) audit - ".utf8)
        var start = lines.startIndex
        while start < lines.endIndex {
            let end = lines[start...].firstIndex(of: UInt8(ascii: "\n")) ?? lines.endIndex
            let message = header + lines[start..<end]
            if transportProtocol == .udp {
                try transmit(message[...])
            } else {
                frames += Array("\(message.count) ".utf8) + message
            }
            start = end + 1
        }
        if transportProtocol != .udp { try transmit(frames[...]) }
        return nil
    }

    /// A TCP peer that closed or reset the connection shows it as readable with nothing
    /// to read, or as an error.
    public func isHealthy() -> Bool {
        guard transportProtocol != .udp, descriptor >= 0 else { return true }
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN) | Self.peerClosed, revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return true }
        if poller.revents & (Int16(POLLERR) | Int16(POLLHUP) | Self.peerClosed) != 0 { return false }
        // A syslog collector sends nothing; over TLS, anything readable is its closing alert.
        if tls != nil { return false }
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT)) != 0
    }

    /// POLLRDHUP (Linux): the peer shut down its side; Glibc's module does not export it.
    private static let peerClosed: Int16 = 0x2000

    public func reset() {
        tls = nil
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    private func connect() throws(SinkError) {
        let connection = try Connection.open(host: host, port: port, datagram: transportProtocol == .udp, tls: transportProtocol == .tls ? tlsSettings : nil,
                                             timeoutSeconds: 5, describing: "syslog \(transportProtocol.rawValue)://\(host):\(port)")
        descriptor = connection.descriptor
        tls = connection.tls
    }


    private func transmit(_ bytes: ArraySlice<UInt8>) throws(SinkError) {
        do throws(SinkError) {
            try Connection(descriptor: descriptor, tls: tls).send(bytes, describing: "syslog \(transportProtocol.rawValue)://\(host):\(port)")
        } catch {
            reset()
            throw error
        }
    }


    /// RFC 3339 with milliseconds, UTC.
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return String(decoding: Timestamp.rfc3339(seconds: UInt64(now.tv_sec), milliseconds: UInt16(now.tv_nsec / 1_000_000)), as: UTF8.self)
    }
}
