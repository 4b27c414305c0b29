import Foundation

/// A real rsyslog (Debian) receiving RFC 5424 over TCP on 127.0.0.1, writing each
/// message's text (nodeaudit's JSON) as one line of a file. It can be stopped and started
/// again on the same port and file, to play a collector outage. Ended by its pid.
public final class RsyslogServer {
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/rsyslogd") }

    public let port: Int
    public let directory: URL
    public var receivedFile: URL { directory.appendingPathComponent("received.log") }
    /// What rsyslogd wrote to stderr (a port it could not bind, a driver it lacks).
    private var errorLog: URL { directory.appendingPathComponent("rsyslogd.stderr") }
    private var process: Process?

    /// With `tls`, rsyslog listens with TLS (GnuTLS driver) using this certificate and key;
    /// with `requireClientCertificate`, only clients with a certificate from the CA get in.
    public init(tag: String, tls: (certificate: String, key: String, ca: String)? = nil, requireClientCertificate: Bool = false) throws {
        if tls != nil, !Self.hasTLSDriver { throw RsyslogError.tlsDriverMissing }
        port = LoopbackPort.free()
        directory = URL(fileURLWithPath: "/tmp/nodeaudit-rsyslog-\(tag)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let driver = tls.map {
            """
             DefaultNetstreamDriver="gtls" DefaultNetstreamDriverCAFile="\($0.ca)"
             DefaultNetstreamDriverCertFile="\($0.certificate)" DefaultNetstreamDriverKeyFile="\($0.key)"
            """
        } ?? ""
        let authMode = requireClientCertificate ? "x509/certvalid" : "anon"
        let streamDriver = tls == nil ? "" : #" StreamDriver.Name="gtls" StreamDriver.Mode="1" StreamDriver.AuthMode=""# + authMode + "\""
        try """
            global(workDirectory="\(directory.path)" maxMessageSize="256k"\(driver))
            module(load="imtcp"\(streamDriver))
            input(type="imtcp" port="\(port)" address="127.0.0.1")
            module(load="imudp")
            input(type="imudp" port="\(port)" address="127.0.0.1")
            template(name="jsonOnly" type="string" string="%msg%\\n")
            action(type="omfile" file="\(receivedFile.path)" template="jsonOnly")

            """.write(to: directory.appendingPathComponent("rsyslog.conf"), atomically: true, encoding: .utf8)
    }

    /// rsyslog's GnuTLS stream driver comes in its own package (rsyslog-gnutls); without
    /// it a TLS listener never opens, which would otherwise look like a slow start.
    private static var hasTLSDriver: Bool {
        let libraries = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib")) ?? []
        return libraries.contains { FileManager.default.fileExists(atPath: "/usr/lib/\($0)/rsyslog/lmnsd_gtls.so") }
    }

    public var url: String { "tcp://127.0.0.1:\(port)" }
    public var tlsURL: String { "tls://127.0.0.1:\(port)" }
    public var udpURL: String { "udp://127.0.0.1:\(port)" }

    /// Starts rsyslogd in the foreground and waits until it accepts connections.
    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/sbin/rsyslogd")
        process.arguments = ["-n", "-f", directory.appendingPathComponent("rsyslog.conf").path,
                             "-i", directory.appendingPathComponent("rsyslogd.pid").path]
        process.standardOutput = FileHandle.nullDevice
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        let errors = try FileHandle(forWritingTo: errorLog)
        defer { try? errors.close() }
        process.standardError = errors
        try process.runWithStopSignalsUnblocked()
        self.process = process
        // Up to 20 s: a restart under an exec burst was once seen to take more than 5 s.
        let listening = try Wait.until(seconds: 20) {
            if !process.isRunning { throw RsyslogError.exited(port, status: process.terminationStatus) }
            return Self.accepts(port: port)
        }
        if !listening {
            let said = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw RsyslogError.notListening(port, said: String(said.suffix(600)))
        }
    }

    /// SIGTERM to rsyslogd and waits for it to end (it writes what it received first).
    public func stop() {
        guard let process, process.isRunning else { return }
        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        self.process = nil
    }

    /// The JSON objects received so far.
    public func received() throws -> [[String: Any]] {
        guard let data = try? Data(contentsOf: receivedFile) else { return [] }
        return try Command.completeJSONLines(data)
    }

    public func remove() {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    public enum RsyslogError: Error, CustomStringConvertible {
        case tlsDriverMissing
        case notListening(Int, said: String)
        case exited(Int, status: Int32)

        public var description: String {
            switch self {
            case .tlsDriverMissing: "rsyslog's GnuTLS driver (rsyslog-gnutls) is missing: run Scripts/setup --test"
            case .notListening(let port, let said): "rsyslogd did not accept connections on 127.0.0.1:\(port) within 20 s; it said: \(said)"
            case .exited(let port, let status): "rsyslogd for port \(port) exited with status \(status)"
            }
        }
    }
}
