import AuditEvents
import AuditRecords
import Enrichment
import Testing
import TestSupport

@Suite("login sessions: bounded")
struct LoginSessionBoundTests {
    static func event(_ lines: [String]) throws -> AuditEvent {
        let records = try lines.map(Fixtures.record)
        return EventInterpreter(argvByteLimit: 4096).interpret(RecordGroup(key: EventKey(records[0]), records: records, closeReason: .lastRecord))
    }

    static func sessionOpen(_ ses: Int) throws -> AuditEvent {
        try event(["type=USER_START msg=audit(1800000000.500:\(ses)): pid=77 uid=0 auid=1000 ses=\(ses) msg='op=PAM:session_open grantors=pam_unix acct=\"user\(ses)\" exe=\"/usr/sbin/sshd\" hostname=10.0.0.9 addr=10.0.0.9 terminal=ssh res=success'"])
    }

    static func command(_ ses: Int) throws -> AuditEvent {
        try event(["type=SYSCALL msg=audit(1800000001.000:\(1000 + ses)): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=\(1000 + ses) auid=1000 uid=1000 gid=1000 euid=1000 suid=1000 fsuid=1000 egid=1000 sgid=1000 fsgid=1000 tty=pts0 ses=\(ses) comm=\"x\" exe=\"/usr/bin/x\" key=(null)"])
    }

    @Test("sessions that open and never close (a flood of logins) stay within the table's capacity; the newest are kept")
    func neverClosed() throws {
        let tracker = LoginSessionTracker(capacity: 4)
        for ses in 1...10 {
            var open = try Self.sessionOpen(ses)
            tracker.enrich(&open)
        }
        #expect(tracker.tables == [TableSize("login_sessions", entries: 4, capacity: 4)])
        var newest = try Self.command(10)
        tracker.enrich(&newest)
        #expect(newest.loginSession?.id == 10)
        var oldest = try Self.command(1)
        tracker.enrich(&oldest)
        #expect(oldest.loginSession == nil)
    }
}
