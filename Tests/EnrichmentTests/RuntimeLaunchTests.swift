import Attribution
import AuditEvents
import AuditRecords
import Enrichment
import Foundation
import HostIO
import Testing
import TestSupport

/// The resolver following a container runtime's launches through events written as the
/// kernel writes them, over a /proc tree in which every process but the supervisor is
/// already gone: what the stream says must be enough.
@Suite("attributing processes a runtime started, from the stream")
final class RuntimeLaunchTests {
    static let container = String(repeating: "c", count: 64)
    static let podUID = "0b0c2a9e-1111-2222-3333-444455556666"
    /// The supervisor (a shim, here a root-owned /bin/sh) that ran the runtime commands.
    static let shim: UInt32 = 500
    let directory: URL
    let bundle: URL
    let resolver: WorkloadResolver
    let epoch = WallClock.nowMilliseconds() - 2000
    var serial = 0

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-launch-\(UUID().uuidString)")
        bundle = directory.appendingPathComponent("bundle")
        let shimDirectory = directory.appendingPathComponent("proc/\(Self.shim)")
        try FileManager.default.createDirectory(at: shimDirectory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: bundle, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: shimDirectory.appendingPathComponent("exe").path, withDestinationPath: "/bin/sh")
        let config = #"{"ociVersion": "1.0.2", "linux": {"cgroupsPath": "/kubepods/besteffort/pod\#(Self.podUID)/\#(Self.container)"}}"#
        try config.write(to: bundle.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        resolver = WorkloadResolver(proc: ProcFS(root: directory.appendingPathComponent("proc").path), kubernetes: nil, podRuntime: "containerd",
                                    runtimes: (RuntimePrograms(paths: ["/usr/sbin/runc", "/bin/sh"]), RuntimeFiles(hostRoot: "")))
    }

    deinit { try? FileManager.default.removeItem(at: directory) }

    /// One exec event as the kernel logs it (`owner`: of the executable's file), enriched.
    func exec(pid: UInt32, ppid: UInt32, exe: String, _ argv: [String], owner: Int = 0, euid: Int = 0) throws -> AuditEvent {
        serial += 1
        let stamp = "msg=audit(\(epoch / 1000).\(String(format: "%03d", epoch % 1000)):\(serial)):"
        let arguments = argv.enumerated().map { "a\($0.offset)=\"\($0.element)\"" }.joined(separator: " ")
        return try enrich([
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=2 ppid=\(ppid) pid=\(pid) auid=4294967295 uid=0 gid=0 euid=\(euid) suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"x\" exe=\"\(exe)\" key=\"exec\"",
            "type=EXECVE \(stamp) argc=\(argv.count) \(arguments)",
            "type=CWD \(stamp) cwd=\"/\"",
            "type=PATH \(stamp) item=0 name=\"\(exe)\" inode=1 dev=fe:00 mode=0100755 ouid=\(owner) ogid=0 rdev=00:00 nametype=NORMAL",
        ])
    }

    /// A socket event of a process (no exec), as runc's init stages make them.
    func socket(pid: UInt32, ppid: UInt32) throws -> AuditEvent {
        try syscall(41, exit: 3, pid: pid, ppid: ppid, comm: "runc:[2:INIT]", exe: "/", key: "net_socket")
    }

    /// A clone of a process that made `child`.
    func fork(pid: UInt32, ppid: UInt32, child: UInt32, exe: String) throws -> AuditEvent {
        try syscall(56, exit: Int(child), pid: pid, ppid: ppid, comm: "x", exe: exe, key: "fork")
    }

    /// One SYSCALL record without PATH records, enriched.
    private func syscall(_ number: Int, exit: Int, pid: UInt32, ppid: UInt32, comm: String, exe: String, key: String) throws -> AuditEvent {
        serial += 1
        let stamp = "msg=audit(\(epoch / 1000).\(String(format: "%03d", epoch % 1000)):\(serial)):"
        return try enrich([
            "type=SYSCALL \(stamp) arch=c000003e syscall=\(number) success=yes exit=\(exit) a0=2 a1=1 a2=0 a3=0 items=0 ppid=\(ppid) pid=\(pid) auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm=\"\(comm)\" exe=\"\(exe)\" key=\"\(key)\"",
        ])
    }

    private func enrich(_ lines: [String]) throws -> AuditEvent {
        let records = try lines.map(Fixtures.record)
        let group = RecordGroup(key: EventKey(stamp: records[0].stamp, node: nil), records: records, closeReason: .endOfEvent)
        var event = EventInterpreter(argvByteLimit: 65536).interpret(group)
        resolver.enrich(&event)
        return event
    }

    func runc(_ words: String...) -> [String] { ["runc", "--root", "/run/containerd/runc/k8s.io"] + words }

    @Test("a container's first process and a one-shot exec, both gone and adopted by the shim, are the container's; the runtime's own execs are not processes of it")
    func launches() throws {
        let pidFile = directory.appendingPathComponent("exec.pid").path
        // runc create, its init helper (exec'd twice), and the helper's clone before its exec.
        let create = try exec(pid: 600, ppid: Self.shim, exe: "/usr/sbin/runc", runc("create", "--bundle", bundle.path, "--pid-file", "/nowhere", Self.container))
        #expect(!create.isRuntimeProcess, "runc create is a host process")
        let initExec = try exec(pid: 601, ppid: 600, exe: "/usr/sbin/runc", ["runc", "init"])
        #expect(initExec.execSession == nil && initExec.isRuntimeProcess)
        // The helper's own events (its mounts) before it execs again make it known in the container.
        let helperSocket = try socket(pid: 601, ppid: 600)
        #expect(helperSocket.workload?.container?.id == Self.container && helperSocket.isRuntimeProcess)
        let helper = try exec(pid: 601, ppid: 600, exe: "/", ["runc", "init"])
        #expect(helper.workload?.container?.id == Self.container && helper.execSession == nil && helper.isRuntimeProcess)
        let stage = try socket(pid: 603, ppid: 600)
        #expect(stage.workload?.container?.id == Self.container && stage.isRuntimeProcess, "the helper's copy before its exec")
        // The first process execs once runc create has exited: its parent is the shim.
        let first = try exec(pid: 603, ppid: Self.shim, exe: "/bin/busybox", ["/bin/sh", "-c", "x"])
        #expect(first.workload?.container?.id == Self.container && !first.isRuntimeProcess)
        #expect(first.workload?.pod?.uid == Self.podUID, "the pod from the bundle's cgroupsPath")
        #expect(first.execSession == nil, "a container's first process is in no exec session")
        #expect(try exec(pid: 604, ppid: 603, exe: "/bin/busybox", ["/bin/true"]).workload?.container?.id == Self.container)
        // The same shell exec'ing again under the shim stays what it was.
        #expect(try exec(pid: 603, ppid: Self.shim, exe: "/bin/busybox", ["/bin/true"]).workload?.container?.id == Self.container)

        // runc exec, whose process execs after runc exec exited (the pid file names it).
        _ = try exec(pid: 700, ppid: Self.shim, exe: "/usr/sbin/runc", runc("exec", "--process", "/tmp/p.json", "--detach", "--pid-file", pidFile, Self.container))
        try "705".write(toFile: pidFile, atomically: true, encoding: .utf8)
        let oneShot = try exec(pid: 705, ppid: Self.shim, exe: "/bin/busybox", ["/bin/cat", "/etc/passwd"])
        #expect(oneShot.workload?.container?.id == Self.container)
        #expect(oneShot.workload?.pod?.uid == Self.podUID)
        #expect(oneShot.execSession?.rootPID == 705)
        // A later child of the shim with no launch left is not the host's.
        let unclaimed = try exec(pid: 710, ppid: Self.shim, exe: "/bin/busybox", ["/bin/true"])
        #expect(unclaimed.workload == nil && unclaimed.isUnattributed)
    }

    @Test("a one-shot pod whose shim is gone before runc's exec is read: the shim's own exec vouches for it, and its process is the container's")
    func goneShimSeenExecing() throws {
        let goneShim: UInt32 = 800
        // The shim's exec (no /proc entry is left for it), then runc create under it.
        _ = try exec(pid: goneShim, ppid: 1, exe: "/bin/sh", ["containerd-shim-runc-v2", "-namespace", "k8s.io", "-id", "x"])
        #expect(resolver.tables.contains(TableSize("container_supervisors", entries: 1, capacity: 4096)), "\(resolver.tables)")
        _ = try exec(pid: 801, ppid: goneShim, exe: "/usr/sbin/runc", runc("create", "--bundle", bundle.path, "--pid-file", "/nowhere", Self.container))
        _ = try exec(pid: 802, ppid: 801, exe: "/usr/sbin/runc", ["runc", "init"])
        let first = try exec(pid: 802, ppid: goneShim, exe: "/bin/busybox", ["/bin/sh", "-c", "x"])
        #expect(first.workload?.container?.id == Self.container && !first.isUnattributed)
        #expect(first.workload?.pod?.uid == Self.podUID)

        // Control: a gone supervisor the stream did not show exec'ing is not trusted.
        let unseen: UInt32 = 900
        _ = try exec(pid: 901, ppid: unseen, exe: "/usr/sbin/runc", runc("create", "--bundle", bundle.path, "--pid-file", "/nowhere", Self.container))
        let orphan = try exec(pid: 902, ppid: unseen, exe: "/bin/busybox", ["/bin/sh", "-c", "x"])
        #expect(orphan.workload?.container == nil)
        // Nor is one whose executable is not root's.
        let foreign: UInt32 = 1000
        _ = try exec(pid: foreign, ppid: 1, exe: "/bin/sh", ["containerd-shim-runc-v2"], owner: 1000)
        _ = try exec(pid: 1001, ppid: foreign, exe: "/usr/sbin/runc", runc("create", "--bundle", bundle.path, "--pid-file", "/nowhere", Self.container))
        #expect(try exec(pid: 1002, ppid: foreign, exe: "/bin/busybox", ["/bin/sh", "-c", "x"]).workload?.container == nil)
    }

    @Test("podman exec: conmon supervises as a forked copy of itself that never execs; gone before runc's exec is read, its fork vouches for it")
    func goneConmonForkedByItsExec() throws {
        // conmon execs, forks its daemon and exits; the daemon runs runc exec and adopts
        // its process; by the time runc's exec is read, the daemon has exited too.
        // Their parent, podman, is alive on the host.
        let podman: UInt32 = 1099, conmon: UInt32 = 1100, daemon: UInt32 = 1101
        let podmanDirectory = directory.appendingPathComponent("proc/\(podman)")
        try FileManager.default.createDirectory(at: podmanDirectory, withIntermediateDirectories: true)
        try "\(podman) (podman) S 1 \(podman) \(podman) 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 0 0 0\n"
            .write(to: podmanDirectory.appendingPathComponent("stat"), atomically: true, encoding: .utf8)
        try "0::/\n".write(to: podmanDirectory.appendingPathComponent("cgroup"), atomically: true, encoding: .utf8)
        _ = try exec(pid: conmon, ppid: podman, exe: "/bin/sh", ["conmon", "-c", Self.container])
        let clone = try fork(pid: conmon, ppid: podman, child: daemon, exe: "/bin/sh")
        #expect(clone.workload?.isHost == true)
        _ = try exec(pid: 1102, ppid: daemon, exe: "/usr/sbin/runc", runc("exec", "--pid-file", "/nowhere", Self.container, "/bin/sh"))
        let process = try exec(pid: 1103, ppid: daemon, exe: "/bin/busybox", ["/bin/sh", "-c", "x"])
        #expect(process.workload?.container?.id == Self.container && process.execSession != nil && !process.isUnattributed)

        // Control: the fork of a process that is no trusted supervisor vouches for nothing.
        let shell: UInt32 = 1200, copy: UInt32 = 1201
        _ = try exec(pid: shell, ppid: podman, exe: "/bin/bash", ["bash"])
        #expect(try fork(pid: shell, ppid: podman, child: copy, exe: "/bin/bash").workload?.isHost == true)
        _ = try exec(pid: 1202, ppid: copy, exe: "/usr/sbin/runc", runc("exec", "--pid-file", "/nowhere", Self.container, "/bin/sh"))
        #expect(try exec(pid: 1203, ppid: copy, exe: "/bin/busybox", ["/bin/sh", "-c", "x"]).workload?.container == nil)
    }

    @Test("a runtime command line naming FIFOs nobody writes to, as pid file, bundle and state (a root pod's own runc), is read without waiting")
    func fifosAreNotWaitedOn() throws {
        // Every file the launch names is a FIFO: reading one that waited would hold the
        // pipeline's thread until somebody wrote to it.
        let traps = directory.appendingPathComponent("traps")
        try FileManager.default.createDirectory(at: traps.appendingPathComponent("root/\(Self.container)"), withIntermediateDirectories: true)
        let fifos = ["pid", "config.json", "root/\(Self.container)/state.json"].map { traps.appendingPathComponent($0).path }
        for fifo in fifos { try #require(mkfifo(fifo, 0o600) == 0) }
        let done = Monitor<[AuditEvent]?>(nil)
        /// The test, handed to the thread that runs its steps while this one watches the clock.
        struct Steps: @unchecked Sendable { let test: RuntimeLaunchTests }
        let box = Steps(test: self)
        let steps = WorkerThread.start {
            let test = box.test
            let events = try? [
                test.exec(pid: 900, ppid: Self.shim, exe: "/usr/sbin/runc",
                          ["runc", "--root", traps.appendingPathComponent("root").path, "create", "--bundle", traps.path,
                           "--pid-file", fifos[0], Self.container]),
                test.exec(pid: 905, ppid: Self.shim, exe: "/bin/busybox", ["/bin/sh"]),
            ]
            done.update { $0 = events ?? [] }
        }
        let events = done.wait(until: { $0 != nil }, timeoutMilliseconds: 10_000) { $0 } ?? nil
        // Waiting on a FIFO: writers that come and go let each read return, so the test ends.
        while done.withLock({ $0 == nil }) {
            for fifo in fifos {
                let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                if fd >= 0 { close(fd) }
            }
            _ = done.wait(until: { $0 != nil }, timeoutMilliseconds: 10) { _ in }
        }
        steps.join()
        try #require(events != nil, "the launch's FIFOs were waited on for 10 s")
        #expect(events?.count == 2)
        #expect(events?.last?.workload?.container?.id == Self.container, "the launch is still the container's, its files unread")
    }

    @Test("runc exec still running: its child begins an exec session that the child's children share")
    func execSession() throws {
        _ = try exec(pid: 900, ppid: Self.shim, exe: "/usr/sbin/runc", runc("exec", "-t", Self.container, "/bin/sh"))
        let shell = try exec(pid: 905, ppid: 900, exe: "/bin/busybox", ["/bin/sh"])
        let session = try #require(shell.execSession)
        #expect(shell.workload?.container?.id == Self.container)
        #expect(try exec(pid: 906, ppid: 905, exe: "/bin/busybox", ["/bin/true"]).execSession == session)
    }

    @Test("a runtime at another path, or whose file is not root's, or run by another user, starts nothing in a container",
          arguments: [("/tmp/runc", 0, 0), ("/usr/sbin/runc", 1000, 0), ("/usr/sbin/runc", 0, 1000)])
    func untrusted(exe: String, owner: Int, euid: Int) throws {
        let launcher = try exec(pid: 800, ppid: 1, exe: exe, runc("exec", "--pid-file", "/nowhere", Self.container), owner: owner, euid: euid)
        #expect(launcher.workload?.container == nil)
        let child = try exec(pid: 801, ppid: 800, exe: "/bin/busybox", ["/bin/true"])
        #expect(child.workload?.container == nil && child.execSession == nil && !child.isUnattributed)
    }
}
