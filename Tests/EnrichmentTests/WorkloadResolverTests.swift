import HostIO
import AuditEvents
import AuditRecords
import Enrichment
import Foundation
import Testing

@Suite("/proc/PID/stat")
struct ProcStatTests {
    static func stat(comm: String, state: String = "S", flags: UInt64 = 0x400000, ppid: UInt32 = 1, start: UInt64 = 4242) -> String {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt … starttime (field 22) …
        "77 (\(comm)) \(state) \(ppid) 77 77 0 -1 \(flags) 120 0 0 0 1 2 0 0 20 0 1 0 \(start) 1000 200 0\n"
    }

    @Test("comm with spaces and parentheses does not shift the fields")
    func hostileComm() throws {
        let parsed = try #require(ProcFS.parseStat(Array(Self.stat(comm: "a) (b 9 9", ppid: 31, start: 987_654).utf8)[...]))
        #expect(parsed == ProcFS.Stat(ppid: 31, startTicks: 987_654, isExiting: false))
    }

    @Test("zombies and processes with PF_EXITING are exiting", arguments: [("Z", 0x400000), ("X", 0x400000), ("R", 0x400004)])
    func exiting(state: String, flags: UInt64) throws {
        let parsed = try #require(ProcFS.parseStat(Array(Self.stat(comm: "true", state: state, flags: flags).utf8)[...]))
        #expect(parsed.isExiting)
    }

    @Test("truncated or garbled stat lines give nil", arguments: ["", "77 (true", "77 (true) S 1 2 3", "77 (x) S one 1 1 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 5 1 2 0"])
    func garbled(text: String) {
        #expect(ProcFS.parseStat(Array(text.utf8)[...]) == nil)
    }
}

/// The resolver over a /proc tree written by the test: which processes exist, when they
/// started and in which cgroup, decide the attribution of an event.
@Suite("attributing events to workloads")
final class WorkloadResolverTests {
    static let containerA = String(repeating: "a", count: 64)
    static let containerB = String(repeating: "b", count: 64)
    let root: URL
    let millisecondsPerTick = UInt64(ProcFS().millisecondsPerTick)
    /// Milliseconds since boot at which the test's events happen.
    let eventBoot: Int64
    let eventEpoch: UInt64

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-proc-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        eventEpoch = WallClock.nowMilliseconds() - 2000
        eventBoot = Int64(eventEpoch) - ProcFS.bootOffsetMilliseconds()
    }

    deinit { try? FileManager.default.removeItem(at: root) }

    enum Started { case beforeEvent, afterEvent }

    func addProcess(_ pid: UInt32, ppid: UInt32, started: Started, cgroup: String, state: String = "S") throws {
        let directory = root.appendingPathComponent(String(pid))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let startMilliseconds = started == .beforeEvent ? eventBoot - 60_000 : eventBoot + 1000
        let ticks = UInt64(startMilliseconds) / millisecondsPerTick
        try ProcStatTests.stat(comm: "p\(pid)", state: state, ppid: ppid, start: ticks)
            .write(to: directory.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
        try cgroup.write(to: directory.appendingPathComponent("cgroup"), atomically: true, encoding: .utf8)
    }

    func removeProcess(_ pid: UInt32) throws {
        try FileManager.default.removeItem(at: root.appendingPathComponent(String(pid)))
    }

    static func containerCgroup(_ id: String) -> String {
        "1:pids:/kubepods/besteffort/pod0b0c2a9e-1111-2222-3333-444455556666/\(id)\n0::/\n"
    }

    func event(pid: UInt32, ppid: UInt32) -> AuditEvent {
        let stamp = AuditStamp(seconds: eventEpoch / 1000, milliseconds: UInt16(eventEpoch % 1000), serial: 1)
        var event = AuditEvent(key: EventKey(stamp: stamp, node: nil), category: .exec, records: [], closeReason: .endOfEvent)
        var process = ProcessInfo()
        process.pid = pid
        process.ppid = ppid
        event.process = process
        return event
    }

    func resolver() -> WorkloadResolver {
        WorkloadResolver(proc: ProcFS(root: root.path), kubernetes: nil, podRuntime: "containerd")
    }

    func attribute(_ resolver: WorkloadResolver, pid: UInt32, ppid: UInt32) -> Workload? {
        var event = event(pid: pid, ppid: ppid)
        resolver.enrich(&event)
        return event.workload
    }

    @Test("a live process is read from its cgroup; the node's runtime fills a pod container's")
    func liveProcess() throws {
        try addProcess(100, ppid: 1, started: .beforeEvent, cgroup: Self.containerCgroup(Self.containerA))
        let workload = attribute(resolver(), pid: 100, ppid: 1)
        #expect(workload?.container == Workload.Container(id: Self.containerA, runtime: "containerd"))
        #expect(workload?.pod?.qosClass == "besteffort")
    }

    @Test("a process gone before its event is handled is attributed from its parent")
    func goneChild() throws {
        try addProcess(100, ppid: 1, started: .beforeEvent, cgroup: Self.containerCgroup(Self.containerA))
        #expect(attribute(resolver(), pid: 101, ppid: 100)?.container?.id == Self.containerA)
    }

    @Test("a zombie reads as the root v1 cgroup: its parent's cgroup is used instead")
    func zombie() throws {
        try addProcess(100, ppid: 1, started: .beforeEvent, cgroup: Self.containerCgroup(Self.containerA))
        try addProcess(101, ppid: 100, started: .beforeEvent, cgroup: "1:pids:/\n0::/\n", state: "Z")
        #expect(attribute(resolver(), pid: 101, ppid: 100)?.container?.id == Self.containerA)
    }

    @Test("a pid reused after the event is not the event's process: its cgroup is not taken")
    func reusedPID() throws {
        try addProcess(100, ppid: 1, started: .beforeEvent, cgroup: Self.containerCgroup(Self.containerA))
        try addProcess(101, ppid: 1, started: .afterEvent, cgroup: Self.containerCgroup(Self.containerB))
        #expect(attribute(resolver(), pid: 101, ppid: 100)?.container?.id == Self.containerA)
    }

    @Test("what was seen of a process attributes its late events after it exited")
    func rememberedProcess() throws {
        try addProcess(100, ppid: 1, started: .beforeEvent, cgroup: "0::/\n")
        try addProcess(101, ppid: 100, started: .beforeEvent, cgroup: Self.containerCgroup(Self.containerB))
        let resolver = resolver()
        resolver.scanProcesses()
        try removeProcess(101)
        #expect(attribute(resolver, pid: 101, ppid: 100)?.container?.id == Self.containerB)
    }

    @Test("host processes are the host; events without a pid are left alone")
    func host() throws {
        try addProcess(100, ppid: 1, started: .beforeEvent, cgroup: "1:pids:/\n0::/\n")
        let resolver = resolver()
        #expect(attribute(resolver, pid: 100, ppid: 1)?.isHost == true)
        var event = AuditEvent(key: EventKey(stamp: AuditStamp(seconds: 1, milliseconds: 0, serial: 2), node: nil),
                               category: .exec, records: [], closeReason: .endOfEvent)
        resolver.enrich(&event)
        #expect(event.workload == nil)
    }
}

@Suite("/proc/PID/status NSpid")
struct NamespacePIDTests {
    @Test("the innermost pid namespace's pid is the last of NSpid", arguments: [
        ("Name:\tsh\nNSpid:\t23311\t12\nNSpgid:\t1\n", UInt32(12)),
        ("Name:\tsleep\nNSpid:\t23259\t1\n", UInt32(1)),
        ("Name:\tbash\nNSpid:\t4242\n", UInt32(4242)),
        ("Name:\tx\n", nil),
    ])
    func innermost(status: String, expected: UInt32?) {
        #expect(ProcFS.innermostNamespacePID(Array(status.utf8)[...]) == expected)
    }
}
