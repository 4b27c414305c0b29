@testable import Attribution
import AuditEvents
import Testing

@Suite("the process table")
struct ProcessTableTests {
    static let pod = Workload(container: .init(id: String(repeating: "a", count: 64)), pod: .init(uid: "p"))
    static let host = Workload(cgroup: "/")

    @Test("a new start time replaces the entry; the same start time merges what is known")
    func startTimes() {
        var table = ProcessTable()
        table.remember(.init(pid: 7, ppid: 1, startTicks: 10, workload: Self.pod, confirmedAt: 0))
        table.remember(.init(pid: 7, ppid: nil, startTicks: 10, workload: nil, confirmedAt: 5))
        #expect(table[7]?.workload == Self.pod)
        #expect(table[7]?.ppid == 1, "the same process: what was known stays")
        table.remember(.init(pid: 7, ppid: 2, startTicks: 99, workload: Self.host, confirmedAt: 6))
        #expect(table[7]?.workload == Self.host)
        #expect(table[7]?.ppid == 2)
    }

    @Test("exited processes are forgotten after the retention; the table stays within its capacity")
    func bounds() {
        var table = ProcessTable(goneRetentionMilliseconds: 100, capacity: 1000)
        for pid in UInt32(1)...2000 {
            table.remember(.init(pid: pid, ppid: 1, startTicks: UInt64(pid), workload: Self.host, confirmedAt: UInt64(pid)))
        }
        #expect(table.count <= 1000)
        let survivor = table.entries.keys.max()!
        table.markGone(survivor, at: 0)
        table.forgetExited(now: 50)
        #expect(table[survivor] != nil)
        table.forgetExited(now: 101)
        #expect(table[survivor] == nil)
    }

    @Test("a full table forgets exited processes first, those gone longest first, before any running one")
    func exitedFirst() {
        var table = ProcessTable(goneRetentionMilliseconds: 1_000_000, capacity: 100)
        for pid in UInt32(1)...100 {
            table.remember(.init(pid: pid, ppid: 1, startTicks: UInt64(pid), workload: Self.host, confirmedAt: UInt64(pid)))
        }
        // Twenty exited, pid 100 first and pid 81 last.
        for pid in UInt32(81)...100 { table.markGone(pid, at: UInt64(1000 - pid)) }
        table.remember(.init(pid: 101, ppid: 1, startTicks: 101, workload: Self.host, confirmedAt: 101))
        #expect(table.count == 90)
        #expect((1...80).allSatisfy { table[UInt32($0)] != nil }, "a running process was forgotten")
        #expect(table[101] != nil)
        #expect((90...100).allSatisfy { table[UInt32($0)] == nil } && (81...89).allSatisfy { table[UInt32($0)] != nil })
    }
}
