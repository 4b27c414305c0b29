@testable import AuditEvents
import AuditRecords
import Testing
import TestSupport

@Suite("process labels: bounded")
struct ProcessLabelsTests {
    static func exec(_ serial: Int, pid: Int, ppid: Int, exe: String) throws -> AuditEvent {
        let line = "type=SYSCALL msg=audit(1700000000.100:\(serial)): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=\(ppid) pid=\(pid) auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"x\" exe=\"\(exe)\" subj=unconfined key=\"exec\""
        let record = try Fixtures.record(line)
        return EventInterpreter(argvByteLimit: 4096).interpret(RecordGroup(key: EventKey(record), records: [record], closeReason: .lastRecord))
    }

    @Test("labelled pids reused by unlabelled processes, 20,000 times, in a table far from full: what it keeps for eviction stays within twice its capacity, and the order of eviction holds")
    func reusedPIDs() throws {
        var labels = ProcessLabels(rules: [try LabelRule.parse("deploy exe=/usr/bin/deploy")], capacity: 100)
        for round in 0..<20_000 {
            let pid = 1000 + round % 50
            var labelled = try Self.exec(2 * round, pid: pid, ppid: 1, exe: "/usr/bin/deploy")
            labels.label(&labelled)
            #expect(labelled.labels == ["deploy"])
            var reused = try Self.exec(2 * round + 1, pid: pid, ppid: 2, exe: "/bin/true")
            labels.label(&reused)
            #expect(reused.labels.isEmpty)
        }
        #expect(labels.count == 0)
        #expect(labels.orderLength <= 200, "\(labels.orderLength) pids kept for eviction")
        // Past the capacity the first labelled still goes first.
        for pid in 0..<101 {
            var event = try Self.exec(50_000 + pid, pid: 5000 + pid, ppid: 1, exe: "/usr/bin/deploy")
            labels.label(&event)
        }
        #expect(labels.count == 100)
        #expect(labels.evicted == 1)
        var child = try Self.exec(60_000, pid: 7000, ppid: 5000, exe: "/bin/true")
        labels.label(&child)
        #expect(child.labels.isEmpty, "the first labelled process was not the one forgotten")
    }
}
