@testable import Attribution
import Testing

@Suite("runtime command lines")
struct RuntimeCommandTests {
    static let id = String(repeating: "f1", count: 32)
    static let state = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/\(id)"

    @Test("containerd's shim: runc create names the container, its bundle, pid file and root")
    func shimCreate() throws {
        let command = try #require(RuntimeCommand.parse([
            "runc", "--root", "/run/containerd/runc/k8s.io", "--log", Self.state + "/log.json", "--log-format", "json",
            "create", "--bundle", Self.state, "--pid-file", Self.state + "/init.pid", Self.id,
        ]))
        #expect(command == RuntimeCommand(action: .start, containerID: Self.id, root: "/run/containerd/runc/k8s.io",
                                          bundle: Self.state, pidFile: Self.state + "/init.pid"))
    }

    @Test("runc exec names the container first; the process's own arguments after it do not count")
    func exec() throws {
        let shim = try #require(RuntimeCommand.parse([
            "runc", "--root", "/run/containerd/runc/k8s.io", "--log", "/x/log.json", "--log-format", "json", "exec",
            "--process", "/tmp/runc-process123", "--console-socket", "/tmp/pty.sock", "--detach", "--pid-file", "/x/e1.pid", Self.id,
        ]))
        #expect(shim.action == .exec && shim.containerID == Self.id && shim.pidFile == "/x/e1.pid")
        let byHand = try #require(RuntimeCommand.parse(["runc", "exec", "-t", "--user", "0:0", "-e", "A=B", "app", "/bin/sh", "-c", "run --root /x app2"]))
        #expect(byHand.containerID == "app" && byHand.root == nil)
        let equals = try #require(RuntimeCommand.parse(["crun", "--root=/run/crun", "exec", "--pid-file=/p", "--", "c1", "ls"]))
        #expect(equals.containerID == "c1" && equals.root == "/run/crun" && equals.pidFile == "/p")
    }

    @Test("run, start, delete and init; what names no container is not a launch")
    func actions() {
        #expect(RuntimeCommand.parse(["runc", "run", "--detach", "--bundle", "/b", "c2"])?.action == .start)
        #expect(RuntimeCommand.parse(["runc", "run", "-d", "-b", "/b", "c2"])?.bundle == "/b")
        #expect(RuntimeCommand.parse(["runc", "--root", "/r", "start", "c2"])?.action == .manage)
        #expect(RuntimeCommand.parse(["runc", "delete", "--force", "c2"])?.containerID == "c2")
        #expect(RuntimeCommand.parse(["runc", "init"])?.action == .initHelper)
        #expect(RuntimeCommand.parse(["runc", "--version"]) == nil)
        #expect(RuntimeCommand.parse(["runc", "list"]) == nil)
        #expect(RuntimeCommand.parse(["runc", "create", "--bundle"]) == nil, "an option without its value")
        #expect(RuntimeCommand.parse(["runc", "exec", "../../etc"]) == nil, "not a container name")
        #expect(RuntimeCommand.parse(["runc", "exec", "a/b"]) == nil)
        #expect(RuntimeCommand.parse(["runc"] + Array(repeating: "x", count: 300)) == nil, "longer than any runtime command")
    }
}

@Suite("the runtime's launches")
struct ContainerLaunchesTests {
    static func launch(_ pid: UInt32, supervisor: UInt32, at time: UInt64, trusted: Bool = true) -> ContainerLaunches.Launch {
        .init(runtimePID: pid, supervisorPID: supervisor, supervisorTrusted: trusted, containerID: "c\(pid)", action: .exec,
              pidSources: ["/p\(pid)"], seenAt: time)
    }

    @Test("pending launches are a trusted supervisor's unclaimed ones, newest first; the index follows claims, replacements and expiry")
    func pendingAndIndex() {
        var launches = ContainerLaunches(retentionMilliseconds: 100, capacity: 8)
        launches.record(Self.launch(10, supervisor: 1, at: 0))
        launches.record(Self.launch(11, supervisor: 1, at: 5))
        launches.record(Self.launch(12, supervisor: 2, at: 5, trusted: false))
        #expect(launches.pending(supervisor: 1).map(\.runtimePID) == [11, 10])
        #expect(launches.pending(supervisor: 2).isEmpty && !launches.isSupervisor(2))
        #expect(launches.unclaimedCount == 3)
        launches.claim(runtimePID: 11, by: 99, at: 50)
        #expect(launches.pending(supervisor: 1).map(\.runtimePID) == [10])
        #expect(launches.unclaimedCount == 2 && launches.isSupervisor(1))
        // pid 10 reused for a launch under another supervisor.
        launches.record(Self.launch(10, supervisor: 3, at: 60))
        #expect(launches.pending(supervisor: 1).isEmpty && launches.isSupervisor(1), "11 is claimed but still remembered")
        launches.expire(now: 120)
        #expect(launches[12] == nil && launches[11] != nil && launches[10] != nil)
        launches.expire(now: 200)
        #expect(launches.count == 0 && launches.unclaimedCount == 0 && !launches.isSupervisor(1) && !launches.isSupervisor(3))
    }

    @Test("past its capacity the oldest launches go")
    func capacity() {
        var launches = ContainerLaunches(retentionMilliseconds: 1000, capacity: 8)
        for pid in UInt32(1)...20 { launches.record(Self.launch(pid, supervisor: 1, at: UInt64(pid))) }
        #expect(launches.count <= 8)
        #expect(launches[20] != nil && launches[1] == nil)
        #expect(launches.unclaimedCount == launches.count)
    }
}
