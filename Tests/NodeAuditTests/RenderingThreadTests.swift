import OfflineParse
import Enrichment
import Foundation
import Pipeline
import Output
import Testing
import TestSupport

/// Fails every write after `allowedWrites` writes, as a closed pipe or full disk would.
private final class FailingSink: EventSink {
    private let allowedWrites: Int
    private(set) var writes = 0

    init(allowedWrites: Int) { self.allowedWrites = allowedWrites }

    func write(_ lines: [UInt8]) throws(SinkError) {
        writes += 1
        if writes > allowedWrites { throw SinkError("writing to test sink: broken pipe") }
    }

    func flush() throws(SinkError) {}
}

@Suite("parse on two threads")
struct RenderingThreadTests {
    private func parse(_ paths: [String], renderingThread: Bool, sink: any EventSink) throws -> PipelineCounters {
        let pipeline = EventPipeline(
            enrichers: [UserNameResolver(database: UserDatabase(passwdPath: "/etc/passwd", groupPath: "/etc/group")), LoginSessionTracker()],
            encoder: NativeJSONEncoder(), sink: sink, renderingThread: renderingThread)
        try OfflineParser(pipeline: pipeline, diagnostics: Diagnostics(quiet: true)).run(paths: paths)
        return pipeline.snapshot()
    }

    @Test("rendering on a second thread writes the same bytes, in the same order, with the same counts", arguments: [
        "exec-net-login.raw.log", "exec-net-login.enriched.log",
    ])
    func sameOutput(corpusFile: String) throws {
        // The file twice, then a login whose session spans many hand-overs: state carried
        // from event to event must come out as on one thread.
        var login = [
            "type=USER_START msg=audit(1900000000.500:10): pid=77 uid=0 auid=1000 ses=5 msg='op=PAM:session_open grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.9 addr=10.0.0.9 terminal=ssh res=success'",
        ]
        for serial in 11...2010 { login += LoginSessionTests.syscall(serial, ses: 5, argv: "in-session") }
        let sessionFile = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-threads-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: sessionFile) }
        try (login.joined(separator: "\n") + "\n").write(to: sessionFile, atomically: true, encoding: .utf8)
        let paths = [Fixtures.corpusFile(corpusFile), Fixtures.corpusFile(corpusFile), sessionFile.path]

        let one = MemorySink()
        let two = MemorySink()
        let oneCounters = try parse(paths, renderingThread: false, sink: one)
        let twoCounters = try parse(paths, renderingThread: true, sink: two)
        #expect(one.bytes.count > 1_000_000)
        #expect(two.bytes == one.bytes)
        #expect(twoCounters.summary == oneCounters.summary)
        #expect(twoCounters.eventsWritten == UInt64(two.bytes.filter { $0 == UInt8(ascii: "\n") }.count))
        let text = String(decoding: two.bytes, as: UTF8.self)
        #expect(text.components(separatedBy: "\"session\":{\"id\":5,\"user\":\"alice\"").count - 1 == 2001, "the login and its 2,000 commands")
    }

    @Test("a failing output on the rendering thread ends the parse with its error instead of hanging")
    func failureReachesReader() throws {
        let sink = FailingSink(allowedWrites: 2)
        #expect {
            _ = try parse([Fixtures.corpusFile("exec-net-login.raw.log")], renderingThread: true, sink: sink)
        } throws: { error in
            "\(error)".contains("broken pipe")
        }
        #expect(sink.writes == 3)
    }

    @Test("nodeaudit parse --threads 1 and 2 print the same events; other counts are refused")
    func threadsOption() throws {
        let file = Fixtures.corpusFile("exec-net-login.raw.log")
        let one = try NodeAuditBinary.run(["parse", "--quiet", "--threads", "1", file])
        let two = try NodeAuditBinary.run(["parse", "--quiet", "--threads", "2", file])
        #expect(one.status == 0 && two.status == 0)
        #expect(!one.stdout.isEmpty)
        #expect(two.stdout == one.stdout)
        let three = try NodeAuditBinary.run(["parse", "--threads", "3", file])
        #expect(three.status != 0)
        #expect(three.stderr.contains("--threads must be 1 or 2"))
        #expect(three.stdout.isEmpty)
    }
}
