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
