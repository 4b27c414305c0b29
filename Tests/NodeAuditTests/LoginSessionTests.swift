import Foundation
import Testing
import TestSupport

/// Sessions from the records alone (no host needed): PAM's session_open names the user
/// and address, every later event with that `ses` carries them.
@Suite("login sessions from PAM records")
struct LoginSessionTests {
    static func syscall(_ serial: Int, ses: Int, argv: String) -> [String] {
        let stamp = "msg=audit(1800000001.000:\(serial)):"
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=\(serial) auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=\(ses) comm=\"x\" exe=\"/usr/bin/x\" key=(null)",
            "type=EXECVE \(stamp) argc=1 a0=\"\(argv)\"",
            "type=PROCTITLE \(stamp) proctitle=78",
        ]
    }

    static let sessionLog = [
        "type=USER_START msg=audit(1800000000.500:10): pid=77 uid=0 auid=1000 ses=5 msg='op=PAM:session_open grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.9 addr=10.0.0.9 terminal=ssh res=success'",
        "type=USER_LOGIN msg=audit(1800000000.600:11): pid=77 uid=0 auid=1000 ses=5 msg='op=login id=1000 exe=\"/usr/sbin/sshd\" hostname=10.0.0.9 addr=10.0.0.9 terminal=/dev/pts/0 res=success'",
    ] + syscall(12, ses: 5, argv: "in-session") + Self.syscall(13, ses: 6, argv: "other-session") + [
        "type=USER_END msg=audit(1800000002.000:14): pid=77 uid=0 auid=1000 ses=5 msg='op=PAM:session_close grantors=pam_unix acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.9 addr=10.0.0.9 terminal=ssh res=success'",
    ] + syscall(15, ses: 5, argv: "late")

    /// The events of `sessionLog` as `nodeaudit parse` with `arguments` writes them.
    static func sessionEvents(_ arguments: [String] = []) throws -> [[String: Any]] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-sessions-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: file) }
        try (sessionLog.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let parsed = try NodeAuditBinary.run(["parse", "--quiet"] + arguments + [file.path])
        guard parsed.status == 0 else { throw Command.CommandError.failed(parsed.stderr) }
        return try Command.jsonLines(parsed.stdout)
    }

    static func event(_ argv: String, in events: [[String: Any]]) -> [String: Any]? {
        events.first { (($0["process"] as? [String: Any])?["argv"] as? [String]) == [argv] }
    }

    @Test("a session opened by PAM is carried onto the commands of that session only")
    func carried() throws {
        let events = try Self.sessionEvents()
        func event(_ argv: String) -> [String: Any]? { Self.event(argv, in: events) }
        let session = try #require(event("in-session")?["session"] as? [String: Any])
        #expect(session["id"] as? Int == 5)
        #expect(session["user"] as? String == "alice")
        #expect(session["address"] as? String == "10.0.0.9")
        #expect(session["terminal"] as? String == "/dev/pts/0", "USER_LOGIN names the real terminal")
        #expect(session["login_event"] as? String == "1800000000.500:10")
        #expect(event("other-session")?["session"] == nil)
        #expect((event("late")?["session"] as? [String: Any])?["user"] as? String == "alice", "an ended session is kept for late events")

        let login = try #require(events.first { $0["serial"] as? Int == 10 }?["login"] as? [String: Any])
        #expect(login["account"] as? String == "alice" && login["session"] as? Int == 5 && login["result"] as? String == "success")
        #expect(events.allSatisfy { $0["labels"] == nil }, "no session label unless asked for")
    }

    @Test("a login message's exe, tty and ids beyond pid, uid, auid and ses are its sender's claims: kept in login, not given to the process")
    func claimsStayInTheMessage() throws {
        let events = try Self.sessionEvents()
        let login = try #require(events.first { $0["serial"] as? Int == 11 })
        let process = try #require(login["process"] as? [String: Any])
        #expect(process["exe"] == nil && process["euid"] == nil && process["ppid"] == nil)
        #expect(process["pid"] as? Int == 77 && process["session"] as? Int == 5)
        #expect((process["auid"] as? [String: Any])?["id"] as? Int == 1000)
        #expect((login["login"] as? [String: Any])?["exe"] as? String == "/usr/sbin/sshd")
    }

    @Test("--session-labels labels a session's processes login:SES, and a filter on the label keeps only what was done in it")
    func sessionLabels() throws {
        let labelled = try Self.sessionEvents(["--session-labels"])
        #expect(Self.event("in-session", in: labelled)?["labels"] as? [String] == ["login:5"])
        #expect(Self.event("late", in: labelled)?["labels"] as? [String] == ["login:5"])
        #expect(Self.event("other-session", in: labelled)?["labels"] == nil)

        let kept = try Self.sessionEvents(["--session-labels", "--filter", "keep label=login:*", "--filter", "drop all"])
        let argvs = kept.compactMap { ($0["process"] as? [String: Any])?["argv"] as? [String] }
        #expect(argvs == [["in-session"], ["late"]], "\(argvs)")
    }
}
