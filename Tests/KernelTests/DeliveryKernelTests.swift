import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// Delivery to a real collector (rsyslog on loopback), through the spool: nothing is
    /// lost when the collector is away, or when nodeaudit is killed meanwhile.
    @Suite("Delivery to rsyslog on the real kernel", .serialized)
    struct DeliveryKernelTests {
        typealias Live = LiveKernelTests

        static func markerNumbers(_ events: [[String: Any]], marker: String) -> [Int] {
            Live.execEvents(events, marker: marker).filter { Live.argv($0).first == "/bin/true" }.compactMap { Live.argv($0).last.flatMap { Int($0) } }
        }

        /// Waits until rsyslog has received every marker exec (or the timeout).
        static func waitForAll(_ server: RsyslogServer, marker: String, count: Int, seconds: Double = 60) throws -> [Int] {
            var numbers: [Int] = []
            try Wait.until(seconds: seconds) {
                numbers = markerNumbers(try server.received(), marker: marker)
                return Set(numbers).count >= count
            }
            return numbers
        }

        /// A started rsyslog and HTTP store for one test, with its marker.
        static func withRsyslogAndStore(_ body: (RsyslogServer, BulkReceiver, String) throws -> Void) throws {
            try #require(RsyslogServer.isAvailable, "rsyslog is missing: run Scripts/setup --test")
            let marker = Live.marker()
            let server = try RsyslogServer(tag: String(marker.suffix(8)))
            defer { server.remove() }
            try server.start()
            let receiver = try BulkReceiver(tag: String(marker.suffix(8)))
            defer { receiver.remove() }
            try body(server, receiver, marker)
        }

        /// The events in a spool directory's segments, delivered or not.
        static func spooledEvents(_ directory: String) throws -> [[String: Any]] {
            let segments = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }
            return try segments.flatMap { try Command.completeJSONLines(try Data(contentsOf: URL(fileURLWithPath: directory + "/" + $0))) }
        }

        /// A started rsyslog for one test, with its marker; the body gets the server, the
        /// marker and the nodeaudit arguments that send to it through a spool of its own.
        static func withCollector(_ body: (RsyslogServer, String, [String]) throws -> Void) throws {
            try #require(RsyslogServer.isAvailable, "rsyslog is missing: run Scripts/setup --test")
            let marker = Live.marker()
            let server = try RsyslogServer(tag: String(marker.suffix(8)))
            defer { server.remove() }
            try server.start()
            let spool = server.directory.appendingPathComponent("spool").path
            try body(server, marker, ["--no-stdout", "--syslog", server.url, "--spool-directory", spool])
        }

        @Test("every event of a burst reaches rsyslog over TCP as one JSON message")
        func burstOverTCP() throws {
            try Self.withCollector { server, marker, arguments in
                var numbers: [Int] = []
                let run = try Live.withLiveRun(arguments) { _ in
                    let burst = try Command.run(FaultKernelTests.execBurst, ["2000", marker])
                    try #require(burst.status == 0, "\(burst.stderr)")
                    numbers = try Self.waitForAll(server, marker: marker, count: 2000)
                }
                #expect(Set(numbers) == Set(0..<2000), "\(2000 - Set(numbers).count) missing; \(run.stderr.suffix(300))")
                #expect(run.finalCounter("output_dropped") == 0)
            }
        }

        @Test("rsyslog stopped for 10 s during a burst: afterwards every event has arrived; duplicates are counted")
        func collectorOutage() throws {
            try Self.withCollector { server, marker, arguments in
                let count = 3000
                var numbers: [Int] = []
                let run = try Live.withLiveRun(arguments) { _ in
                    let burst = Process()
                    burst.executableURL = URL(fileURLWithPath: FaultKernelTests.execBurst)
                    let log = server.directory.appendingPathComponent("spawned.log")
                    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                    burst.arguments = [String(count), marker, "200", log.path]  // 15 s at 200 exec/s
                    burst.standardError = FileHandle.nullDevice
                    try burst.runWithStopSignalsUnblocked()
                    defer { if burst.isRunning { kill(burst.processIdentifier, SIGKILL); burst.waitUntilExit() } }
                    func spawned() -> Int { (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").count ?? 0 }
                    // The collector goes away once events flow, and comes back 2,000 execs later.
                    let flowing = try Wait.until { !Self.markerNumbers(try server.received(), marker: marker).isEmpty }

                    #expect(flowing, "nothing arrived")
                    server.stop()
                    let stoppedAt = spawned()
                    let outageLasted = Wait.until(seconds: 120) { spawned() >= min(count, stoppedAt + 2000) || !burst.isRunning }

                    #expect(outageLasted)
                    try server.start()
                    burst.waitUntilExit()
                    numbers = try Self.waitForAll(server, marker: marker, count: count)
                }
                let unique = Set(numbers)
                #expect(unique == Set(0..<count), "\(count - unique.count) events lost; \(run.stderr.suffix(400))")
                let duplicates = numbers.count - unique.count
                print("collector outage: \(count) events, \(duplicates) duplicates, resent=\(run.finalCounter("output_resent") ?? -1)")
                #expect((run.finalCounter("output_errors") ?? 0) > 0, "the outage was not noticed")
                #expect(run.finalCounter("output_dropped") == 0)
            }
        }

        @Test("nodeaudit killed (SIGKILL) while rsyslog is down, then started again: the spooled events are delivered")
        func spoolSurvivesKill() throws {
            try #require(RsyslogServer.isAvailable, "rsyslog is missing: run Scripts/setup --test")
            let marker = Live.marker()
            let server = try RsyslogServer(tag: String(marker.suffix(8)))
            defer { server.remove() }
            let spool = server.directory.appendingPathComponent("spool").path
            let arguments = LiveKernelTests.liveArguments + ["--no-stdout", "--syslog", server.url, "--spool-directory", spool]
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }

            // The collector is down: events go to the spool only.
            let first = try LiveRun(arguments)
            try #require(try first.start(), "\(first.stderr)")
            let burst = try Command.run(FaultKernelTests.execBurst, ["500", marker])
            try #require(burst.status == 0, "\(burst.stderr)")
            // Every marker exec is in the spool's segments before the kill.
            let spooled = try Wait.until { Set(Self.markerNumbers(try Self.spooledEvents(spool + "/syslog"), marker: marker)).count == 500 }
            try #require(spooled, "the events did not reach the spool: \(first.stderr)")
            #expect(first.stop(signal: SIGKILL) == SIGKILL || !first.process.isRunning)
            // The dead daemon's audit pid is cleared by the kernel on its next send; the
            // next run takes over the stream.
            try server.start()
            let second = try LiveRun(arguments)
            try #require(try second.start(), "\(second.stderr)")
            let numbers = try Self.waitForAll(server, marker: marker, count: 500)
            second.stop()
            #expect(Set(numbers) == Set(0..<500), "\(500 - Set(numbers).count) of the spooled events were not delivered")
        }
    }
}

extension KernelSuite.DeliveryKernelTests {
    @Test("over TLS with a test CA: every event of a burst arrives; a collector the CA did not sign gets nothing")
    func burstOverTLS() throws {
        try #require(RsyslogServer.isAvailable, "rsyslog is missing: run Scripts/setup --test")
        let marker = Live.marker()
        let certificates = try TestCertificates(in: URL(fileURLWithPath: "/tmp/nodeaudit-certs-\(marker.suffix(8))"))
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let server = try RsyslogServer(tag: String(marker.suffix(8)),
                                       tls: (certificates.serverCertificate, certificates.serverKey, certificates.ca))
        defer { server.remove() }
        try server.start()

        let spool = server.directory.appendingPathComponent("spool").path
        var numbers: [Int] = []
        let run = try Live.withLiveRun(["--no-stdout", "--syslog", server.tlsURL, "--syslog-ca", certificates.ca, "--spool-directory", spool]) { _ in
            let burst = try Command.run(KernelSuite.FaultKernelTests.execBurst, ["1000", marker])
            try #require(burst.status == 0, "\(burst.stderr)")
            numbers = try Self.waitForAll(server, marker: marker, count: 1000)
        }
        #expect(Set(numbers) == Set(0..<1000), "\(1000 - Set(numbers).count) missing; \(run.stderr.suffix(300))")

        // Trusting another CA, nodeaudit refuses the collector: nothing is sent, errors count.
        let distrusting = try Live.withLiveRun(["--no-stdout", "--syslog", server.tlsURL, "--syslog-ca", certificates.otherCA,
                                                "--spool-directory", spool + "-distrust", "--stats-interval", "0.2"]) { run in
            _ = try Live.spawn("/bin/echo", [marker, "distrusted"])
            let refusalCounted = Wait.until { (run.counter("output_errors") ?? 0) > 0 }

            #expect(refusalCounted, "the refused handshake was not counted")
        }
        #expect((distrusting.finalCounter("output_errors") ?? 0) > 0, "\(distrusting.stderr.suffix(300))")
        #expect(!(try server.received()).contains { Live.argv($0).last == "distrusted" })
    }
}

extension KernelSuite.DeliveryKernelTests {
    @Test("Elasticsearch _bulk: every event of a burst is created once, also across 503 answers and resends")
    func bulkToElasticsearch() throws {
        let marker = Live.marker()
        let receiver = try BulkReceiver(tag: String(marker.suffix(8)))
        defer { receiver.remove() }
        let spool = receiver.directory.appendingPathComponent("spool").path
        let count = 1500
        let run = try Live.withLiveRun(["--no-stdout", "--http", receiver.bulkURL, "--spool-directory", spool]) { _ in
            let burst = Process()
            burst.executableURL = URL(fileURLWithPath: KernelSuite.FaultKernelTests.execBurst)
            burst.arguments = [String(count), marker, "300"]
            burst.standardError = FileHandle.nullDevice
            try burst.runWithStopSignalsUnblocked()
            // Once events flow, the store answers 503 for 3 s.
            let flowing = try Wait.until { !Self.markerNumbers(try receiver.documents(), marker: marker).isEmpty }

            #expect(flowing, "nothing arrived")
            try receiver.refuse(seconds: 3)
            burst.waitUntilExit()
            try Wait.until { Set(Self.markerNumbers(try receiver.documents(), marker: marker)).count >= count }
        }
        let documents = try receiver.documents()
        let numbers = Self.markerNumbers(documents, marker: marker)
        #expect(Set(numbers) == Set(0..<count), "\(count - Set(numbers).count) missing; \(run.stderr.suffix(300))")
        let ids = documents.compactMap { $0["id"] as? String }
        #expect(ids.count == Set(ids).count, "an event was stored twice")
        #expect((run.finalCounter("output_errors") ?? 0) > 0, "the 503s were not noticed")
    }
}

extension KernelSuite.DeliveryKernelTests {
    @Test("a collector that requires a client certificate gets the events from nodeaudit with one, and none without")
    func clientCertificate() throws {
        try #require(RsyslogServer.isAvailable, "rsyslog is missing: run Scripts/setup --test")
        let marker = Live.marker()
        let certificates = try TestCertificates(in: URL(fileURLWithPath: "/tmp/nodeaudit-certs-\(marker.suffix(8))"))
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let server = try RsyslogServer(tag: String(marker.suffix(8)), tls: (certificates.serverCertificate, certificates.serverKey, certificates.ca),
                                       requireClientCertificate: true)
        defer { server.remove() }
        try server.start()
        let base = ["--no-stdout", "--syslog", server.tlsURL, "--syslog-ca", certificates.ca]
        let anonymous = try Live.withLiveRun(base + ["--spool-directory", server.directory.appendingPathComponent("spool-anonymous").path,
                                                     "--stats-interval", "0.2"]) { run in
            _ = try Live.spawn("/bin/echo", [marker, "anonymous"])
            let refusalCounted = Wait.until { (run.counter("output_errors") ?? 0) > 0 }

            #expect(refusalCounted, "the refused connection was not counted")
        }
        let identified = try Live.withLiveRun(base + ["--syslog-cert", certificates.clientCertificate, "--syslog-key", certificates.clientKey,
                                                      "--spool-directory", server.directory.appendingPathComponent("spool-identified").path]) { _ in
            _ = try Live.spawn("/bin/echo", [marker, "identified"])
            try Wait.until { try server.received().contains { Live.argv($0).contains(marker) } }
        }
        let received = try server.received().filter { Live.argv($0).contains(marker) }.compactMap { Live.argv($0).last }
        #expect(received.contains("identified"), "\(identified.stderr.suffix(300))")
        #expect(!received.contains("anonymous"))
        #expect((anonymous.finalCounter("output_errors") ?? 0) > 0)
    }
}

extension KernelSuite.DeliveryKernelTests {
    @Test("syslog over UDP and plain JSON lines over HTTP, at the same time as stdout")
    func udpAndJSONLines() throws {
        try Self.withRsyslogAndStore { server, receiver, marker in
            let run = try Live.withLiveRun(["--syslog", server.udpURL, "--http", receiver.linesURL, "--http-format", "ndjson",
                                            "--spool-directory", server.directory.appendingPathComponent("spool").path]) { live in
                // A gentle rate: UDP has no flow control, and loopback drops what rsyslog cannot take in time.
                let burst = try Command.run(KernelSuite.FaultKernelTests.execBurst, ["100", marker, "200"])
                try #require(burst.status == 0, "\(burst.stderr)")
                try #require(try live.barrier(), "the events did not reach stdout")
                try Wait.until { Set(Self.markerNumbers(try server.received(), marker: marker)).count >= 100 }
                try Wait.until {
                    let lines = (try? Data(contentsOf: receiver.directory.appendingPathComponent("lines.jsonl"))) ?? Data()
                    return Set(Self.markerNumbers(try Command.completeJSONLines(lines), marker: marker)).count >= 100
                }
            }
            let overUDP = Set(Self.markerNumbers(try server.received(), marker: marker))
            #expect(overUDP == Set(0..<100), "\(100 - overUDP.count) missing over UDP")
            let lines = try Data(contentsOf: receiver.directory.appendingPathComponent("lines.jsonl"))
            #expect(Set(Self.markerNumbers(try Command.jsonLines(lines), marker: marker)) == Set(0..<100))
            #expect(Set(Self.markerNumbers(try run.events(), marker: marker)) == Set(0..<100), "stdout")
        }
    }
}

extension KernelSuite.DeliveryKernelTests {
    @Test("HTTPS to a _bulk endpoint whose certificate the configured CA signed")
    func bulkOverHTTPS() throws {
        let marker = Live.marker()
        let certificates = try TestCertificates(in: URL(fileURLWithPath: "/tmp/nodeaudit-certs-\(marker.suffix(8))"))
        defer { try? FileManager.default.removeItem(at: certificates.directory) }
        let receiver = try BulkReceiver(tag: String(marker.suffix(8)), tls: (certificates.serverCertificate, certificates.serverKey))
        defer { receiver.remove() }
        let config = receiver.directory.appendingPathComponent("nodeaudit.yaml")
        try "output:\n  http_ca_file: \"\(certificates.ca)\"\n".write(to: config, atomically: true, encoding: .utf8)
        let run = try Live.withLiveRun(["--config", config.path, "--no-stdout", "--http", receiver.bulkURL,
                                        "--spool-directory", receiver.directory.appendingPathComponent("spool").path]) { _ in
            let burst = try Command.run(KernelSuite.FaultKernelTests.execBurst, ["300", marker])
            try #require(burst.status == 0, "\(burst.stderr)")
            try Wait.until { Set(Self.markerNumbers(try receiver.documents(), marker: marker)).count >= 300 }
        }
        #expect(Set(Self.markerNumbers(try receiver.documents(), marker: marker)) == Set(0..<300), "\(run.stderr.suffix(300))")
    }
}

extension KernelSuite.DeliveryKernelTests {
    @Test("_bulk answering 400 for one item and 413 for one batch: the spool flows on, the dead-letter file holds exactly the refused events, the counters say so")
    func permanentRefusals() throws {
        let marker = Live.marker()
        let receiver = try BulkReceiver(tag: String(marker.suffix(8)))
        defer { receiver.remove() }
        let spool = receiver.directory.appendingPathComponent("spool").path
        let count = 200
        func ids(_ events: [[String: Any]]) -> Set<String> { Set(events.compactMap { $0["id"] as? String }) }
        let run = try Live.withLiveRun(["--no-stdout", "--http", receiver.bulkURL, "--spool-directory", spool]) { _ in
            for (index, poison) in [BulkReceiver.poisonItem, BulkReceiver.poisonBatch].enumerated() {
                let before = try Command.run(KernelSuite.FaultKernelTests.execBurst, ["50", marker])
                try #require(before.status == 0, "\(before.stderr)")
                _ = try Live.spawn("/bin/true", [marker, poison, String(index)])
            }
            // The refused batch is refused whole: the burst after it starts once it was, or
            // its first events could share that batch (a fresh-clone run under load saw it).
            let batchRefused = try Wait.until { try receiver.refused().contains { Live.argv($0).contains(BulkReceiver.poisonBatch) } }
            try #require(batchRefused, "the poisoned batch was never refused")
            let burst = try Command.run(KernelSuite.FaultKernelTests.execBurst, [String(count), marker + "-after"])
            try #require(burst.status == 0, "\(burst.stderr)")
            // Everything after the refusals arrives: nothing blocks the spool.
            try Wait.until { Set(Self.markerNumbers(try receiver.documents(), marker: marker + "-after")).count >= count }
        }
        #expect(Set(Self.markerNumbers(try receiver.documents(), marker: marker + "-after")) == Set(0..<count), "\(run.stderr.suffix(400))")
        let refused = try receiver.refused()
        #expect(refused.contains { Live.argv($0).contains(BulkReceiver.poisonItem) })
        #expect(refused.contains { Live.argv($0).contains(BulkReceiver.poisonBatch) })
        let deadLetters = try Command.jsonLines(try Data(contentsOf: URL(fileURLWithPath: spool + "/http/dead-letter.jsonl")))
        #expect(ids(deadLetters) == ids(refused), "dead letters \(deadLetters.count), refused \(refused.count)")
        #expect(deadLetters.count == ids(deadLetters).count, "an event was dead-lettered twice")
        #expect(run.finalCounter("output_refused") == deadLetters.count, "\(run.stderr.suffix(400))")
        #expect(run.stderr.contains("refused for good"), "no refusal was reported on stderr")
        // Nothing refused was also stored, and everything else was.
        #expect(ids(try receiver.documents()).isDisjoint(with: ids(refused)))
    }
}

extension KernelSuite.DeliveryKernelTests {
    @Test("include_records and a 400 KB argv, then 1,000 execs: all 1,001 reach rsyslog and an HTTP store, the big one marked truncated to the bound")
    func bigEventThenMore() throws {
        try Self.withRsyslogAndStore { server, receiver, marker in
            let config = receiver.directory.appendingPathComponent("nodeaudit.yaml")
            // The collector takes messages up to 256 KiB: the bound keeps every event below it.
            try "events:\n  include_records: true\n  max_event_bytes: 200000\n".write(to: config, atomically: true, encoding: .utf8)
            let bigArguments = (0..<400).map { "\(String(format: "%03d", $0))" + String(repeating: "x", count: 997) }
            let spawnBig = "import os, sys; os.waitpid(os.posix_spawn('/bin/true', ['/bin/true', sys.argv[1], 'big'] + sys.argv[2:], {}), 0)"
            func isBig(_ event: [String: Any]) -> Bool { Array(Live.argv(event).prefix(3)) == ["/bin/true", marker, "big"] }
            let run = try Live.withLiveRun(["--config", config.path, "--no-stdout", "--syslog", server.url, "--http", receiver.bulkURL,
                                            "--spool-directory", server.directory.appendingPathComponent("spool").path]) { _ in
                let big = try Command.run("/usr/bin/python3", ["-c", spawnBig, marker] + bigArguments)
                try #require(big.status == 0, "\(big.stderr)")
                let burst = try Command.run(KernelSuite.FaultKernelTests.execBurst, ["1000", marker])
                try #require(burst.status == 0, "\(burst.stderr)")
                func complete(_ events: [[String: Any]]) -> Bool { Set(Self.markerNumbers(events, marker: marker)).count >= 1000 && events.contains(where: isBig) }
                try Wait.until { complete(try server.received()) }
                try Wait.until { complete(try receiver.documents()) }
            }
            for (name, events) in [("rsyslog", try server.received()), ("http", try receiver.documents())] {
                #expect(Set(Self.markerNumbers(events, marker: marker)) == Set(0..<1000), "\(name): \(run.stderr.suffix(300))")
                let big = events.filter(isBig)
                try #require(big.count == 1, "\(name): the big event came \(big.count) times")
                #expect(big[0]["truncated"] as? Bool == true, "\(name): the big event is not marked")
                #expect((big[0]["original_bytes"] as? Int ?? 0) > 200_000)
            }
            // Two: python's own exec carried the same 400 KB of arguments.
            #expect(run.finalCounter("truncated") == 2)
        }
    }
}
