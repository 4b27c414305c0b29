import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

extension KernelSuite {
    /// `nodeaudit run --k8s-webhook-listen`: the API server's webhook backend, sent to as
    /// the API server sends (HTTPS POSTs of EventList batches with a client certificate), by
    /// curl; and attacked as a pod on the node's network could.
    @Suite("API server audit webhook", .serialized)
    struct KubernetesWebhookKernelTests {
        typealias Live = LiveKernelTests

        static let port = LoopbackPort.free()

        static func webhookArguments(_ certificates: TestCertificates, port: Int = port) -> [String] {
            ["--k8s-webhook-listen", "127.0.0.1:\(port)", "--k8s-webhook-cert", certificates.serverCertificate,
             "--k8s-webhook-key", certificates.serverKey, "--k8s-webhook-client-ca", certificates.ca, "--no-containers"]
        }

        /// A batch of `count` events (each a ResponseComplete of its own request) as the webhook sends it.
        static func batch(tag: String, _ range: Range<Int>) -> Data {
            let items = range.map { n in
                #"{"level":"Metadata","auditID":"\#(tag)-\#(n)","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/pods","verb":"list","user":{"username":"system:admin"},"sourceIPs":["10.0.0.1"],"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-12-06T10:00:00.000000Z","stageTimestamp":"2026-12-06T10:00:00.001000Z"}"#
            }
            return Data((#"{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":["# + items.joined(separator: ",") + "]}").utf8)
        }

        /// curl POSTing `body` as the API server would (`certificate`: client certificate and
        /// key, or none); the HTTP status, 0 when no answer came.
        static func post(_ body: Data, port: Int = port, ca: String, certificate: (String, String)?) throws -> Int {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("batch-\(UUID().uuidString).json")
            try body.write(to: file)
            defer { try? FileManager.default.removeItem(at: file) }
            var arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "30", "--cacert", ca, "-X", "POST",
                             "-H", "Content-Type: application/json", "--data-binary", "@" + file.path]
            if let (certificate, key) = certificate { arguments += ["--cert", certificate, "--key", key] }
            let result = try Command.run("/usr/bin/curl", arguments + ["https://127.0.0.1:\(port)/audit"])
            return Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        }

        static func auditIDs(_ run: LiveRun, tag: String) throws -> [String] {
            try run.events().compactMap { ($0["k8s_api"] as? [String: Any])?["audit_id"] as? String }.filter { $0.hasPrefix(tag + "-") }
        }

        static func started(_ run: LiveRun) -> Bool { run.stderr.contains("serving the API server's audit webhook") }

        @Test("a client without a certificate, or with one another CA signed, and plain HTTP are refused; the API server's batch is taken")
        func clientCertificates() throws {
            let tag = String(Live.marker().suffix(8))
            let directory = try Fixtures.temporaryDirectory("webhook-certs")
            defer { try? FileManager.default.removeItem(at: directory) }
            let certificates = try TestCertificates(in: directory)
            // A client certificate signed by the other CA.
            let signed = try Command.run("/bin/sh", ["-c", """
                cd '\(directory.path)' && openssl req -newkey rsa:2048 -nodes -keyout stranger.key -out stranger.csr -subj '/CN=stranger' 2>/dev/null \
                && openssl x509 -req -in stranger.csr -CA other-ca.pem -CAkey other-ca.key -CAcreateserial -out stranger.pem -days 2 2>/dev/null
                """])
            try #require(signed.status == 0, "\(signed.stderr)")
            let run = try Live.withLiveRun(Self.webhookArguments(certificates)) { live in
                try #require(Wait.until(seconds: 20) { Self.started(live) }, "\(live.stderr)")
                #expect(try Self.post(Self.batch(tag: tag, 0..<1), ca: certificates.ca, certificate: nil) == 0)
                #expect(try Self.post(Self.batch(tag: tag, 1..<2), ca: certificates.ca,
                                      certificate: (directory.appendingPathComponent("stranger.pem").path,
                                                    directory.appendingPathComponent("stranger.key").path)) == 0)
                let plain = try Command.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "10",
                                                              "-X", "POST", "--data", "{}", "http://127.0.0.1:\(Self.port)/audit"])
                #expect(plain.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines) == "000")
                #expect(try Self.post(Self.batch(tag: tag, 2..<5), ca: certificates.ca,
                                      certificate: (certificates.clientCertificate, certificates.clientKey)) == 200)
                #expect(try Self.post(Data("{\"kind\":\"Pod\"}".utf8), ca: certificates.ca,
                                      certificate: (certificates.clientCertificate, certificates.clientKey)) == 400)
            }
            #expect(Set(try Self.auditIDs(run, tag: tag)) == ["\(tag)-2", "\(tag)-3", "\(tag)-4"])
            #expect((run.finalCounter("k8s_webhook_refused_clients") ?? 0) >= 2 && run.finalCounter("k8s_webhook_bad") == 1, "\(run.stderr.suffix(600))")
        }

        @Test("1,000 idle connections, 100 of them stuck in a handshake, do not hold back a batch, and are closed at their deadline, counted")
        func idleConnections() throws {
            let tag = String(Live.marker().suffix(8))
            let directory = try Fixtures.temporaryDirectory("webhook-certs")
            defer { try? FileManager.default.removeItem(at: directory) }
            let certificates = try TestCertificates(in: directory)
            var limit = rlimit()
            getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            let saved = limit
            limit.rlim_cur = max(limit.rlim_cur, min(limit.rlim_max, 4096))
            setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            defer {
                var restore = saved
                setrlimit(Int32(RLIMIT_NOFILE.rawValue), &restore)
            }
            var idle: [Int32] = []
            defer { idle.forEach { close($0) } }
            let run = try Live.withLiveRun(Self.webhookArguments(certificates)) { live in
                try #require(Wait.until(seconds: 20) { Self.started(live) }, "\(live.stderr)")
                let connectedAt = Date()
                for _ in 0..<1000 {
                    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                    var address = sockaddr_in()
                    address.sin_family = sa_family_t(AF_INET)
                    address.sin_port = UInt16(Self.port).bigEndian
                    inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
                    let connected = withUnsafePointer(to: &address) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                    }
                    try #require(connected == 0, "connect: \(String(cString: strerror(errno)))")
                    idle.append(fd)
                }
                // Some send the start of a TLS handshake and then nothing more (slow clients).
                for fd in idle.prefix(100) { _ = send(fd, [0x16, 0x03, 0x01], 3, 0) }
                #expect(try Self.post(Self.batch(tag: tag, 0..<50), ca: certificates.ca,
                                      certificate: (certificates.clientCertificate, certificates.clientKey)) == 200)
                // The idle ones were not closed to serve it: each still open (no end of file),
                // unless their handshake deadline (10 s) passed meanwhile on a slow machine.
                let open = idle.filter { fd in
                    var byte: UInt8 = 0
                    return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)
                }
                if Date().timeIntervalSince(connectedAt) < 9 {
                    #expect(open.count == 1000, "\(1000 - open.count) idle connections were closed")
                }
                // They hold nothing for long: each is closed at its handshake deadline (10 s).
                let closed = Wait.until(seconds: 40) {
                    idle.allSatisfy { fd in
                        var byte: UInt8 = 0
                        return recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
                    }
                }
                #expect(closed, "idle connections outlived their handshake deadline")
            }
            #expect(Set(try Self.auditIDs(run, tag: tag)).count == 50)
            #expect((run.finalCounter("k8s_webhook_closed") ?? 0) >= 1000, "\(run.stderr.suffix(800))")
            #expect(run.stderr.contains("closed at its deadline"))
        }

        @Test("a batch answered 200 while the log store is down survives a SIGKILL: delivered after the restart")
        func acknowledgedSurvivesKill() throws {
            let tag = String(Live.marker().suffix(8))
            let directory = try Fixtures.temporaryDirectory("webhook-certs")
            defer { try? FileManager.default.removeItem(at: directory) }
            let certificates = try TestCertificates(in: directory)
            let receiver = try BulkReceiver(tag: tag)
            defer { receiver.remove() }
            let spool = receiver.directory.appendingPathComponent("spool").path
            let state = receiver.directory.appendingPathComponent("state").path
            let arguments = Live.liveArguments + Self.webhookArguments(certificates)
                + ["--no-stdout", "--http", receiver.bulkURL, "--spool-directory", spool, "--state-directory", state]
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }

            try receiver.refuse(seconds: 3600)
            let first = try LiveRun(arguments)
            try #require(try first.start { Self.started(first) }, "\(first.stderr)")
            #expect(try Self.post(Self.batch(tag: tag, 0..<100), ca: certificates.ca,
                                  certificate: (certificates.clientCertificate, certificates.clientKey)) == 200)
            _ = first.stop(signal: SIGKILL)
            try snapshot.restore()

            try receiver.refuse(seconds: 0)
            let second = try LiveRun(arguments)
            try #require(try second.start { Self.started(second) }, "\(second.stderr)")
            let ids = { (try? receiver.documents().compactMap { ($0["k8s_api"] as? [String: Any])?["audit_id"] as? String }) ?? [] }
            #expect(Wait.until(seconds: 30) { Set(ids()).count >= 100 }, "\(Set(ids()).count) of 100 delivered; \(second.stderr.suffix(500))")
            #expect(second.stop() == 0)
            #expect(Set(ids()) == Set((0..<100).map { "\(tag)-\($0)" }))
        }
    }
}
