import Foundation
import Testing
import TestSupport

/// Audit logs written elsewhere (filtered logs, SELinux and PAM hosts, hostile account
/// names): record kinds the corpus of this machine does not have, as libauparse reads them.
@Suite("logs written elsewhere")
struct ForeignLogTests {
    static func events(_ lines: [String]) throws -> [[String: Any]] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-foreign-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: file) }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return try parseEvents([file.path]).events
    }

    @Test("EXECVE without SYSCALL (a filtered log, one cut at a file boundary) keeps its argv", arguments: [
        [#"type=EXECVE msg=audit(1614788539.386:13232): argc=1 a0="whoami""#],
        [#"type=EXECVE msg=audit(1614788539.386:13232): argc=2 a0="ls" a1="-l""#,
         #"type=PATH msg=audit(1614788539.386:13232): item=0 name="/bin/ls" inode=5 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"#],
    ])
    func execveAlone(lines: [String]) throws {
        let events = try Self.events(lines)
        try #require(events.count == 1)
        let process = try #require(events[0]["process"] as? [String: Any], "\(events[0])")
        #expect((process["argv"] as? [String])?.first == (lines.count == 1 ? "whoami" : "ls"))
        #expect(events[0]["malformed_fields"] == nil)
    }

    @Test("a ' inside a double-quoted value of a user-space message does not end the message")
    func quoteInsideMessage() throws {
        let line = #"type=USER_AUTH msg=audit(1700000000.100:5): pid=1 uid=0 auid=4294967295 ses=4294967295 msg='op=PAM:authentication acct="a'b" exe="/usr/sbin/sshd" hostname=10.0.0.9 addr=10.0.0.9 terminal=ssh res=failed'"#
        let login = try #require(try Self.events([line]).first?["login"] as? [String: Any])
        #expect(login["account"] as? String == "a'b")
        #expect(login["address"] as? String == "10.0.0.9")
        #expect(login["result"] as? String == "failed")
    }

    @Test("bad hex in saddr and proctitle is flagged, not decoded into garbage", arguments: [
        "type=SOCKADDR msg=audit(1614788539.400:13233): saddr=ZZ",
        "type=SOCKADDR msg=audit(1614788539.400:13234): saddr=020",
        "type=PROCTITLE msg=audit(1614788539.400:13235): proctitle=ABC",
    ])
    func badHexFlagged(line: String) throws {
        let event = try #require(try Self.events([line]).first)
        #expect(event["malformed_fields"] as? Int == 1, "\(event)")
        #expect(event["socket"] == nil)
        #expect((event["process"] as? [String: Any])?["proctitle"] == nil)
    }

    @Test("a gzip-compressed log reads as the plain one; two members one after another; a cut stream and a fake one are errors")
    func gzipLogs() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-gzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let plain = Fixtures.fixtureFile("kernel-cases.raw.log")
        let compressed = directory.appendingPathComponent("audit.log.1.gz").path
        let gzip = try ReferenceTools.path("gzip", package: "gzip")
        let zipped = try Command.run(gzip, ["-c", plain])
        try zipped.stdout.write(to: URL(fileURLWithPath: compressed))
        let fromPlain = try NodeAuditBinary.run(["parse", plain])
        let fromGzip = try NodeAuditBinary.run(["parse", compressed])
        #expect(fromGzip.status == 0, "\(fromGzip.stderr)")
        #expect(fromGzip.stdout == fromPlain.stdout)

        let twice = directory.appendingPathComponent("twice.gz").path
        try (zipped.stdout + zipped.stdout).write(to: URL(fileURLWithPath: twice))
        let both = try NodeAuditBinary.run(["parse", twice])
        #expect(both.status == 0)
        #expect(both.stderr.contains("\(2 * (try Fixtures.lines(ofFile: plain).count)) lines"), "\(both.stderr)")

        let cut = directory.appendingPathComponent("cut.gz").path
        try zipped.stdout.prefix(zipped.stdout.count / 2).write(to: URL(fileURLWithPath: cut))
        let cutShort = try NodeAuditBinary.run(["parse", cut])
        #expect(cutShort.status == 1)
        #expect(cutShort.stderr.contains("the gzip stream ends early"), "\(cutShort.stderr)")

        let fake = directory.appendingPathComponent("fake.gz").path
        try Data([0x1f, 0x8b] + Array("not gzip at all".utf8)).write(to: URL(fileURLWithPath: fake))
        let notGzip = try NodeAuditBinary.run(["parse", fake])
        #expect(notGzip.status == 1)
        #expect(notGzip.stderr.contains("not a valid gzip stream"), "\(notGzip.stderr)")
    }

    @Test("input without a single audit record is said to be one, and exits 1; an empty input is no error")
    func noRecordAtAll() throws {
        let passwd = try NodeAuditBinary.run(["parse", "/etc/passwd"])
        #expect(passwd.status == 1)
        #expect(passwd.stderr.contains("was an audit record: is this an audit log?"), "\(passwd.stderr)")
        #expect(passwd.stdout.isEmpty)
        let empty = try NodeAuditBinary.run(["parse", "/dev/null"])
        #expect(empty.status == 0, "\(empty.stderr)")
    }

    @Test("ausearch's output (PROCTITLE first, `----` and `time->` between events) gives the same events as the log it searched",
          arguments: [Fixtures.fixtureFile("kernel-cases.raw.log"), Fixtures.corpusFile("exec-net-login.raw.log")])
    func ausearchOutput(log: String) throws {
        let ausearch = try ReferenceTools.path("ausearch", package: "auditd")
        let searched = try Command.run(ausearch, ["-if", log])
        try #require(searched.status == 0 && searched.stdoutText.hasPrefix("----"), "\(searched.stderr)")
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-ausearch-\(UUID().uuidString).txt")
        defer { try? FileManager.default.removeItem(at: file) }
        try searched.stdout.write(to: file)
        let fromAusearch = try parseEvents([file.path])
        let fromLog = try parseEvents([log])
        #expect(fromAusearch.counters.assembly.lateRecords == 0)
        #expect(fromAusearch.counters.malformed == 0, "`----` and `time->` lines are not records, nor malformed")
        func byID(_ events: [[String: Any]]) -> [String: [String: Any]] {
            Dictionary(events.map { ($0["id"] as? String ?? "", $0) }, uniquingKeysWith: { first, _ in first })
        }
        let searchedEvents = byID(fromAusearch.events)
        let logged = byID(fromLog.events)
        #expect(Set(searchedEvents.keys) == Set(logged.keys))
        #expect(fromAusearch.events.count == fromLog.events.count, "one event per `----`")
        let argvDiffers = logged.filter { id, event in
            ((searchedEvents[id]?["process"] as? [String: Any])?["argv"] as? [String]) != ((event["process"] as? [String: Any])?["argv"] as? [String])
        }
        #expect(argvDiffers.isEmpty, "\(argvDiffers.count) execs differ, e.g. \(argvDiffers.keys.first ?? "")")
    }

    @Test("old-format PAM messages: no key keeps its parenthesis, no value its comma or parenthesis or a lone colon")
    func oldPAMFormat() throws {
        let line = #"type=USER_START msg=audit(1700000013.000:903): pid=4000 uid=0 auid=0 ses=5 msg='PAM: session open acct=root : exe="/usr/sbin/crond" (hostname=?, addr=?, terminal=cron res=success)'"#
        let event = try #require(try Self.events([line]).first)
        let login = try #require(event["login"] as? [String: Any])
        #expect(login["account"] as? String == "root")
        #expect(login["terminal"] as? String == "cron")
        #expect(login["result"] as? String == "success")
        let keys = ((event["details"] as? [[String: Any]]) ?? []).flatMap(\.keys)
        #expect(!keys.contains { $0.hasPrefix("(") }, "\(keys)")
    }

    @Test("SELinux verdicts and permissions come out in both schemas; AppArmor's fields are details")
    func accessDecisions() throws {
        let avc = "type=AVC msg=audit(1631798689.100:65688): avc:  granted  { read write } for  pid=1200 comm=\"sshd\" tclass=chr_file"
        let event = try #require(try Self.events([avc]).first)
        let selinux = event["selinux"] as? [String: Any]
        #expect(selinux?["result"] as? String == "granted")
        #expect(selinux?["permissions"] as? [String] == ["read", "write"])
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-avc-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: file) }
        try (avc + "\n").write(to: file, atomically: true, encoding: .utf8)
        let ecs = try Command.jsonLines(try NodeAuditBinary.run(["parse", "--format", "ecs", file.path]).stdout)
        #expect(((ecs.first?["nodeaudit"] as? [String: Any])?["selinux"] as? [String: Any])?["result"] as? String == "granted")
    }
}
