import AuditEvents
import AuditRecords
import Foundation
import Output
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// ECS output that Elasticsearch accepts: every path and value nodeaudit writes, checked
/// against the field table of docs/ecs.md (type, one value or an array, allowed values,
/// as the ECS reference gives them). A field without a row, a host name in an `ip`, a
/// dotted label or a non-ECS field inside an ECS object fails here.
@Suite("ECS conformance")
struct ECSConformanceTests {
    /// One row of the table.
    struct Field {
        var type: String
        var isArray: Bool
        var values: Set<String>
    }

    /// docs/ecs.md's field table, by path.
    static func table() throws -> [String: Field] {
        let page = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("docs/ecs.md"), encoding: .utf8)
        let section = try #require(page.range(of: "## Fields").map { page[$0.upperBound...] })
        let end = section.range(of: "\n## ").map { section[..<$0.lowerBound] } ?? section
        var fields: [String: Field] = [:]
        for line in end.split(separator: "\n") where line.hasPrefix("| `") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let path = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            let values = cells[4].split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " `")) }.filter { !$0.isEmpty }
            #expect(fields[path] == nil, "docs/ecs.md lists \(path) twice")
            fields[path] = Field(type: cells[2], isArray: cells[3] == "yes", values: Set(values))
        }
        return fields
    }

    /// Every leaf of an event as `(path, value)`; arrays are values.
    static func leaves(_ object: [String: Any], prefix: String = "") -> [(String, Any)] {
        object.flatMap { key, value -> [(String, Any)] in
            let path = prefix.isEmpty ? key : prefix + "." + key
            if let nested = value as? [String: Any] { return leaves(nested, prefix: path) }
            return [(path, value)]
        }
    }

    static func isIPAddress(_ text: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1
    }

    /// What is wrong with one value of a field of `type`; nil when nothing.
    static func problem(_ value: Any, type: String, values: Set<String>) -> String? {
        switch type {
        case "keyword", "wildcard":
            guard let text = value as? String else { return "not a string" }
            if !values.isEmpty, !values.contains(text) { return "\(text) is not one of \(values.sorted())" }
        case "long":
            // JSONSerialization gives numbers and booleans alike as NSNumber: its type tells them apart.
            guard let number = value as? NSNumber, String(cString: number.objCType) != "c", value is Int else { return "not an integer" }
        case "ip":
            guard let text = value as? String, isIPAddress(text) else { return "not an IP address" }
        case "date":
            guard let text = value as? String, ISO8601DateFormatter.withFractionalSeconds.date(from: text) != nil
                || ISO8601DateFormatter().date(from: text) != nil else { return "not an RFC 3339 time" }
        case "flattened":
            // An object of the API's own keys: any leaf below the row's path.
            break
        default:
            return "the table's type \(type) is not one this test knows"
        }
        return nil
    }

    /// The events checked: the corpus, the fixtures and the crafted records, in both
    /// datasets, with ancestry, names, fields and a cluster; and one in a pod.
    static func events() throws -> [[String: Any]] {
        func parse(_ file: String, _ options: [String]) throws -> [[String: Any]] {
            let result = try NodeAuditBinary.run(["parse", "--quiet", "--format", "ecs"] + options + [file])
            try #require(result.status == 0, "\(result.stderr)")
            return try Command.jsonLines(result.stdout)
        }
        let crafted = Fixtures.fixtureFile("ecs-cases.raw.log")
        let enriching = ["--ancestry-depth", "4", "--host-users", "--field", "team=sec", "--field", "env=prod", "--cluster-name", "c1"]
        var events = try parse(Fixtures.corpusFile("exec-net-login.raw.log"), ["--ancestry-depth", "4"])
            + parse(Fixtures.corpusFile("exec-net-login.enriched.log"), [])
            + parse(Fixtures.fixtureFile("kernel-cases.raw.log"), ["--host-users"])
            + parse(Fixtures.fixtureFile("other-hosts.log"), [])
            + parse(crafted, enriching)
            + parse(crafted, enriching + ["--ecs-dataset", "auditd"])
            + parse(crafted, ["--sigma", Fixtures.fixtureFile("sigma/ecs-cases.yml")])
        events.append(try ECSMappingTests.encodedInPod(ECSEncoder(staticFields: StaticFields(clusterName: "c1"))))
        // The API server's audit events, from every export the fixtures hold, every stage;
        // and one whose request object does not fit the bound.
        let k8s = try FileManager.default.contentsOfDirectory(atPath: Fixtures.fixtureFile("k8s-audit")).sorted()
            .flatMap { ["--k8s-audit", Fixtures.fixtureFile("k8s-audit/" + $0)] }
        let large = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-k8s-large-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: large) }
        let body = String(repeating: "x", count: 1 << 20)
        try #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"RequestResponse","auditID":"large","stage":"ResponseComplete","verb":"create","user":{"username":"u"},"requestObject":{"data":"\#(body)"},"responseObject":{"data":"\#(body)"},"responseStatus":{"code":201},"stageTimestamp":"2026-12-06T10:00:00Z"}"#
            .write(to: large, atomically: true, encoding: .utf8)
        for options in [enriching, []] {
            let result = try NodeAuditBinary.run(["parse", "--quiet", "--format", "ecs", "--k8s-stages", "all"] + options + k8s + ["--k8s-audit", large.path])
            try #require(result.status == 0, "\(result.stderr)")
            events += try Command.jsonLines(result.stdout)
        }
        return events
    }

    @Test("every path and value of the corpus, the fixtures and crafted records is in the table, of its type; every row is written")
    func conformance() throws {
        let table = try Self.table()
        let events = try Self.events()
        try #require(events.count > 6000)
        var unknown: [String: Int] = [:]
        var wrong: [String: String] = [:]
        var seen: Set<String> = []
        for event in events {
            for (path, value) in Self.leaves(event) where !path.hasPrefix("nodeaudit.") {
                // ECS labels are flat keywords: labels.NAME, never deeper.
                var row = path.hasPrefix("labels.") && !path.dropFirst("labels.".count).contains(".") ? "labels.*" : path
                if table[row] == nil, let flattened = table.first(where: { $0.value.type == "flattened" && path.hasPrefix($0.key + ".") }) {
                    row = flattened.key
                }
                guard let field = table[row] else {
                    unknown[path, default: 0] += 1
                    continue
                }
                seen.insert(row)
                if field.type == "flattened" { continue }
                let items: [Any]
                if let array = value as? [Any] {
                    if !field.isArray { wrong[path] = "an array where ECS has one value" }
                    items = array
                } else {
                    if field.isArray { wrong[path] = "one value where the table says array" }
                    items = [value]
                }
                for item in items {
                    if let problem = Self.problem(item, type: field.type, values: field.values) { wrong[path] = "\(problem): \(item)" }
                }
            }
        }
        #expect(unknown.isEmpty, "paths outside the table and nodeaudit.*: \(unknown)")
        #expect(wrong.isEmpty, "values that do not fit their field: \(wrong)")
        #expect(Set(table.keys).subtracting(seen).isEmpty, "rows no event wrote: \(Set(table.keys).subtracting(seen).sorted())")
    }

    @Test("crafted records: host names stay out of source.ip, sub-techniques split, AVC and DAEMON_END classified, entity ids stable")
    func craftedRecords() throws {
        let result = try NodeAuditBinary.run(["parse", "--quiet", "--format", "ecs", "--ancestry-depth", "2", Fixtures.fixtureFile("ecs-cases.raw.log")])
        try #require(result.status == 0, "\(result.stderr)")
        let events = try Command.jsonLines(result.stdout)
        func event(_ serial: Int) throws -> [String: Any] {
            try #require(events.first { ($0["event"] as? [String: Any])?["sequence"] as? Int == serial })
        }
        func value(_ event: [String: Any], _ path: String) -> Any? {
            Self.leaves(event).first { $0.0 == path }?.1
        }
        let hostName = try event(1)
        #expect(value(hostName, "source.ip") == nil)
        #expect(value(hostName, "source.domain") as? String == "attacker.example.com")
        #expect(value(hostName, "source.address") as? String == "attacker.example.com")
        #expect(value(try event(2), "source.ip") as? String == "2001:db8::7")
        #expect(value(try event(3), "source.ip") as? String == "::ffff:10.1.2.3")

        let sudo = try event(5)
        #expect(value(sudo, "threat.technique.id") as? [String] == ["T1548"])
        #expect(value(sudo, "threat.technique.subtechnique.id") as? [String] == ["T1548.003"])
        #expect(value(sudo, "process.tty.char_device.major") as? Int == 136 && value(sudo, "process.tty.char_device.minor") as? Int == 3)
        #expect(value(sudo, "file.directory") as? String == "/usr/bin" && value(sudo, "file.name") as? String == "sudo")
        #expect(value(sudo, "user.effective.id") as? String == "0")
        #expect(value(sudo, "nodeaudit.audit_user.id") as? String == "1000")
        // The same process on its next event: the same entity id; its parent's is the shell's exec.
        let entity = try #require(value(sudo, "process.entity_id") as? String)
        #expect(entity == "node-a/1800000100.005:5/1001")
        #expect(value(try event(6), "process.entity_id") as? String == entity)
        #expect(value(try event(6), "process.start") as? String == value(sudo, "process.start") as? String)
        #expect(value(sudo, "process.parent.entity_id") as? String == "node-a/1800000100.004:4/100")
        #expect(value(try event(6), "network.transport") as? String == "tcp")
        #expect(value(try event(8), "network.transport") as? String == "udp")
        #expect(value(try event(7), "network.direction") as? String == "egress")
        #expect(value(try event(9), "network.direction") as? String == "ingress")

        let denied = try event(10), granted = try event(11), daemonEnd = try event(12)
        #expect(value(denied, "event.outcome") as? String == "failure")
        #expect(value(granted, "event.outcome") as? String == "success")
        #expect(value(daemonEnd, "event.type") as? [String] == ["end"])
        #expect(value(try event(13), "user.target.name") as? String == "carol")
        // Nothing that is not ECS inside an ECS object.
        for event in events {
            #expect(value(event, "user.audit.id") == nil && value(event, "process.session_leader.entity_id") == nil)
            #expect(value(event, "process.parent.exec_event") == nil && value(event, "process.parent.exec_time") == nil)
        }
    }

    @Test("labels are flat: a dotted --field name is refused with its position, and nothing is written")
    func dottedLabels() throws {
        let result = try NodeAuditBinary.run(["parse", "--format", "ecs", "--field", "team=sec", "--field", "team.name=sec", Fixtures.fixtureFile("ecs-cases.raw.log")])
        #expect(result.status == 64 || result.status == 2, "\(result.status)")
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.contains("--field") && result.stderr.contains("item 2") && result.stderr.contains("team.name"), "\(result.stderr)")
    }

    /// Elastic's "Potential Linux Hack Tool Launched" selects process starts by
    /// `host.os.type`, `event.type`, `event.action` and `process.name` (docs/ecs.md); its
    /// condition, as the rule states it, over nodeaudit's event of such an exec.
    @Test("with output.ecs_dataset auditd, an Elastic prebuilt process-start rule matches nodeaudit's exec event")
    func elasticPrebuiltRule() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-ecs-rule-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        try """
            type=SYSCALL msg=audit(1800000200.100:40): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=1 ppid=100 pid=4040 auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=3 comm="hydra" exe="/usr/bin/hydra" key="exec"
            type=EXECVE msg=audit(1800000200.100:40): argc=3 a0="hydra" a1="-l" a2="root"
            type=PATH msg=audit(1800000200.100:40): item=0 name="/usr/bin/hydra" inode=99 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0
            type=PROCTITLE msg=audit(1800000200.100:40): proctitle=6879647261002D6C00726F6F74

            """.write(to: log, atomically: true, encoding: .utf8)
        func matches(_ event: [String: Any]) -> Bool {
            let e = event["event"] as? [String: Any]
            let host = (event["host"] as? [String: Any])?["os"] as? [String: Any]
            let name = ((event["process"] as? [String: Any])?["name"] as? String)?.lowercased()
            return (e?["category"] as? [String])?.contains("process") == true
                && host?["type"] as? String == "linux"
                && (e?["type"] as? [String])?.contains("start") == true
                && ["exec", "exec_event", "start", "executed", "process_started"].contains(e?["action"] as? String ?? "")
                && name == "hydra"  // one of the programs the rule names
        }
        for (dataset, expected) in [("auditd", true), ("nodeaudit", false)] {
            let result = try NodeAuditBinary.run(["parse", "--quiet", "--format", "ecs", "--ecs-dataset", dataset, log.path])
            try #require(result.status == 0, "\(result.stderr)")
            let event = try #require(try Command.jsonLines(result.stdout).first)
            #expect(matches(event) == expected, "\(dataset): \(event)")
            if dataset == "auditd" {
                #expect((event["event"] as? [String: Any])?["module"] as? String == "auditd")
                #expect((event["event"] as? [String: Any])?["dataset"] as? String == "auditd_manager.auditd")
            }
        }
    }
}

extension ISO8601DateFormatter {
    /// RFC 3339 with milliseconds, as `@timestamp` and the `date` fields are written.
    nonisolated(unsafe) static let withFractionalSeconds: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}
