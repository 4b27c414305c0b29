import Foundation
import Output
import Pipeline
import Sigma
import Testing
import TestSupport

/// Sigma correlation rules on one node's events: counts and sequences per group, in
/// event time, with bounded state.
@Suite("Sigma correlation rules")
struct SigmaCorrelationTests {
    static func failedLogin(_ serial: Int, seconds: Int, address: String) -> String {
        "type=USER_LOGIN msg=audit(\(1_800_000_000 + seconds).000:\(serial)): pid=900 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"root\" exe=\"/usr/sbin/sshd\" hostname=? addr=\(address) terminal=sshd res=failed'"
    }

    static func exec(_ serial: Int, seconds: Int, exe: String, uid: Int) -> [String] {
        let stamp = "msg=audit(\(1_800_000_000 + seconds).000:\(serial)):"
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=\(serial) auid=1000 uid=\(uid) gid=0 euid=\(uid) suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"x\" exe=\"\(exe)\" key=\"exec\"",
            "type=EXECVE \(stamp) argc=1 a0=\"\(exe)\"",
            "type=PROCTITLE \(stamp) proctitle=78",
        ]
    }

    /// The detections' titles per event, and the detector.
    static func run(_ lines: [String]) throws -> (titles: [[String]], detector: SigmaDetector) {
        let set = SigmaRuleSet.load([Fixtures.fixtureFile("sigma/correlation-tests.yml")])
        try #require(set.refusals.isEmpty, "\(set.refusals)")
        try #require(set.correlations.count == 2)
        let detector = SigmaDetector(rules: set.rules, correlations: set.correlations)
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), detector: detector, sink: sink)
        for line in lines { try pipeline.add(try Fixtures.record(line)) }
        try pipeline.finish()
        let titles = try Command.jsonLines(Data(sink.bytes)).map { event in
            ((event["detections"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
        }
        return (titles, detector)
    }

    static let burst = "ten failed logins from one address in a minute"

    @Test("event_count: the tenth failed login from one address within 60 s fires, once; nine, another address, or a slower pace do not")
    func eventCount() throws {
        var lines: [String] = []
        for index in 0..<12 { lines.append(Self.failedLogin(100 + index, seconds: index * 5, address: "10.0.0.9")) }
        for index in 0..<9 { lines.append(Self.failedLogin(200 + index, seconds: index, address: "10.0.0.10")) }
        for index in 0..<12 { lines.append(Self.failedLogin(300 + index, seconds: index * 7, address: "10.0.0.11")) }
        let (titles, _) = try Self.run(lines)
        #expect(titles.count == 33)
        #expect(titles.enumerated().filter { $0.element.contains(Self.burst) }.map(\.offset) == [9], "the tenth of 10.0.0.9, and not again two later")
        #expect(!titles.contains { $0.contains("failed login") }, "a rule only a correlation uses does not report its own matches")
    }

    @Test("temporal_ordered: id then uname by one user within 5 minutes fires; the other order, or another user, does not")
    func temporal() throws {
        let sequence = "discovery commands in sequence by one user"
        let lines = Self.exec(1, seconds: 0, exe: "/usr/bin/id", uid: 1000) + Self.exec(2, seconds: 60, exe: "/usr/bin/uname", uid: 1000)
            + Self.exec(3, seconds: 100, exe: "/usr/bin/uname", uid: 1001) + Self.exec(4, seconds: 110, exe: "/usr/bin/id", uid: 1001)
            + Self.exec(5, seconds: 120, exe: "/usr/bin/id", uid: 1002) + Self.exec(6, seconds: 900, exe: "/usr/bin/uname", uid: 1002)
        let (titles, _) = try Self.run(lines)
        #expect(titles.map { $0.contains(sequence) } == [false, true, false, false, false, false])
        #expect(titles[0] == ["id"], "generate: true keeps the rules' own matches")
    }

    @Test("state is bounded: 25,000 addresses keep at most 10,000 groups, the oldest forgotten and counted")
    func bounded() throws {
        let lines = (0..<25_000).map { Self.failedLogin(1000 + $0, seconds: $0 / 1000, address: "10.\($0 / 65536).\($0 / 256 % 256).\($0 % 256)") }
        let (_, detector) = try Self.run(lines)
        let burst = try #require(detector.correlationCounts.first { $0.correlation.title == Self.burst })
        #expect(burst.groups <= SigmaCorrelation.maxGroups)
        #expect(burst.forgotten >= 15_000)
    }
}
