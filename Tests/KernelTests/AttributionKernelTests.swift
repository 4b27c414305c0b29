import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// Container and pod attribution on the real kernel: processes placed for real into
    /// kubelet-style cgroups, and a container started by a real runtime.
    @Suite("Attribution on the real kernel", .serialized)
    struct AttributionKernelTests {
        typealias Live = LiveKernelTests

        enum CgroupForm: String, CaseIterable, CustomTestStringConvertible {
            case cgroupfsOnV1 = "cgroupfs driver, cgroup v1"
            case systemdOnV2 = "systemd driver, cgroup v2"
            var testDescription: String { rawValue }

            /// Where this machine mounts the hierarchy, or nil when it has none of this kind.
            var driver: KubeletLayout.Driver? {
                switch self {
                case .cgroupfsOnV1:
                    let root = "/sys/fs/cgroup/pids"
                    return FileManager.default.fileExists(atPath: root + "/tasks") ? .cgroupfs(controllerRoot: root) : nil
                case .systemdOnV2:
                    for root in ["/sys/fs/cgroup", "/sys/fs/cgroup/unified"]
                    where FileManager.default.fileExists(atPath: root + "/cgroup.controllers") {
                        return .systemd(unifiedRoot: root)
                    }
                    return nil
                }
            }

            /// The runtime the cgroup path itself names.
            var runtimeInPath: String? { self == .systemdOnV2 ? "containerd" : nil }
        }

        static func object(_ event: [String: Any], _ path: String...) -> [String: Any]? {
            var current: [String: Any]? = event
            for key in path { current = current?[key] as? [String: Any] }
            return current
        }

        /// Runs `command` in a shell that first moves itself into `cgroup`.
        static func runInCgroup(_ cgroup: String, _ command: String) throws -> Command.Result {
            try Command.run("/bin/sh", ["-c", "echo $$ > '\(cgroup)/cgroup.procs' && exec \(command)"])
        }

        @Test("1,000 execs from inside a kubelet pod cgroup all carry the pod, namespace and container",
              arguments: CgroupForm.allCases)
        func kubeletCgroupBurst(form: CgroupForm) throws {
            guard let driver = form.driver else { try Test.cancel("this machine mounts no \(form.rawValue) hierarchy") }
            let marker = Live.marker()
            let layout = try KubeletLayout(driver: driver, tag: String(marker.suffix(8)))
            defer { layout.remove() }
            let count = 1000
            let run = try Live.withLiveRun(["--pod-logs", layout.podLogRoot, "--container-logs", layout.containerLogRoot]) { live in
                let burst = try Self.runInCgroup(layout.cgroupDirectory, "'\(Fixtures.repositoryRoot.path)/Scripts/exec-burst' \(count) \(marker)")
                try #require(burst.status == 0, "\(burst.stderr)")
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let execs = Live.execEvents(try run.events(), marker: marker).filter { Live.argv($0).first == "/bin/true" }
            #expect(execs.count == count)
            #expect(Set(execs.compactMap { Live.argv($0).last.flatMap(Int.init) }) == Set(0..<count))

            let attributed = execs.filter { event in
                let container = Self.object(event, "container")
                let pod = Self.object(event, "k8s", "pod")
                return container?["id"] as? String == layout.containerID
                    && container?["name"] as? String == layout.containerName
                    && pod?["uid"] as? String == layout.podUID
                    && pod?["name"] as? String == layout.podName
                    && pod?["namespace"] as? String == layout.namespace
                    && pod?["qos_class"] as? String == "besteffort"
                    && event["host"] == nil
            }
            #expect(attributed.count == count, "first unattributed: \(execs.first { e in !attributed.contains { $0["id"] as? String == e["id"] as? String } } ?? [:])")
            if let runtime = form.runtimeInPath {
                #expect(execs.allSatisfy { Self.object($0, "container")?["runtime"] as? String == runtime })
            }
            let cgroupSuffix = String(layout.cgroupDirectory.split(separator: "/").suffix(4).joined(separator: "/"))
            #expect(execs.allSatisfy { (Live.process($0)["cgroup"] as? String)?.hasSuffix(cgroupSuffix) == true })
        }

        @Test("root's own runc naming FIFOs nobody writes to as its bundle, state and pid file does not hold the events back")
        func runtimeCommandNamingFIFOs() throws {
            let runc = "/usr/sbin/runc"
            try #require(FileManager.default.isExecutableFile(atPath: runc), "runc is missing: run Scripts/setup --test")
            let marker = Live.marker()
            let traps = try Fixtures.temporaryDirectory("fifo-runtime")
            defer { try? FileManager.default.removeItem(at: traps) }
            let id = "fifo-\(marker.suffix(8))"
            try FileManager.default.createDirectory(at: traps.appendingPathComponent("root/\(id)"), withIntermediateDirectories: true)
            let fifos = ["config.json", "root/\(id)/state.json", "pid"].map { traps.appendingPathComponent($0).path }
            for fifo in fifos { try #require(mkfifo(fifo, 0o600) == 0) }
            // runc itself waits on the bundle's config.json (a FIFO); it is ended below.
            let command = Process()
            command.executableURL = URL(fileURLWithPath: runc)
            command.arguments = ["--root", traps.appendingPathComponent("root").path, "create", "--bundle", traps.path,
                                 "--pid-file", fifos[2], id]
            command.standardOutput = FileHandle.nullDevice
            command.standardError = FileHandle.nullDevice
            let run = try Live.withLiveRun { live in
                try command.run()
                defer {
                    kill(command.processIdentifier, SIGKILL)
                    command.waitUntilExit()
                }
                _ = try Live.spawn("/bin/echo", [marker])
                try #require(try live.barrier(), "the events stopped after runc's exec; nodeaudit said: \(live.stderrForFailure)")
            }
            let events = try run.events()
            #expect(events.contains { Live.argv($0).contains(id) && Live.argv($0).contains("create") }, "runc's exec is an event")
            #expect(Live.execEvents(events, marker: marker).count == 1, "the exec after it is an event")
        }

        @Test("a container run by runc is attributed with the id runc reports; host processes are marked host")
        func runcContainer() throws {
            try #require(RuncContainer.isAvailable, "runc and busybox-static are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let container = try RuncContainer(
                script: "i=0; while [ $i -lt 20 ]; do /bin/true \(marker) $i; i=$((i+1)); done; sleep 1")
            defer { container.remove() }
            var reportedID: String?
            let run = try Live.withLiveRun { live in
                try container.start()
                reportedID = try container.state()["id"] as? String
                try #require(try container.waitUntilStopped(), "the container did not stop")
                _ = try Live.spawn("/bin/echo", [marker, "host"])
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let id = try #require(reportedID)
            #expect(id == container.id)
            let events = Live.execEvents(try run.events(), marker: marker)

            let inContainer = events.filter { Live.argv($0).first == "/bin/true" }
            #expect(inContainer.count == 20)
            #expect(inContainer.allSatisfy { Self.object($0, "container")?["id"] as? String == id && $0["host"] == nil },
                    "\(inContainer.first { Self.object($0, "container")?["id"] as? String != id } ?? [:])")
            // The container's first process, exec'd by `runc init` inside the new cgroup.
            let initial = try run.events().filter { Live.argv($0).first == "/bin/sh" && Live.argv($0).last?.contains(marker) == true }
            #expect(initial.count == 1)
            #expect(initial.allSatisfy { Self.object($0, "container")?["id"] as? String == id })

            let host = events.filter { Live.argv($0).first == "/bin/echo" }
            #expect(host.count == 1)
            #expect(host.allSatisfy { $0["host"] as? Bool == true && $0["container"] == nil && $0["k8s"] == nil })
        }

        @Test("nodeaudit parse --containers attributes an event of a process that is still running")
        func parseAttributesRunningProcess() throws {
            guard let driver = CgroupForm.systemdOnV2.driver ?? CgroupForm.cgroupfsOnV1.driver else {
                try Test.cancel("no cgroup hierarchy to create a pod in")
            }
            let marker = Live.marker()
            let layout = try KubeletLayout(driver: driver, tag: String(marker.suffix(8)))
            defer { layout.remove() }
            let sleeper = Process()
            sleeper.executableURL = URL(fileURLWithPath: "/bin/sh")
            sleeper.arguments = ["-c", "echo $$ > '\(layout.cgroupDirectory)/cgroup.procs' && exec sleep 30"]
            try sleeper.run()
            defer { if sleeper.isRunning { kill(sleeper.processIdentifier, SIGKILL) }; sleeper.waitUntilExit() }
            let pid = sleeper.processIdentifier
            // Wait until the shell has moved itself and exec'd sleep.
            Wait.until(seconds: 5) { (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "sleep\n" }

            // The record the kernel would log for that exec, stamped now.
            let now = Date().timeIntervalSince1970
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(marker).log")
            defer { try? FileManager.default.removeItem(at: log) }
            try """
            type=SYSCALL msg=audit(\(String(format: "%.3f", now)):77): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=\(getpid()) pid=\(pid) auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="sleep" exe="/usr/bin/sleep" key="\(marker)"
            type=EOE msg=audit(\(String(format: "%.3f", now)):77):

            """.write(to: log, atomically: true, encoding: .utf8)

            let logArguments = ["--pod-logs", layout.podLogRoot, "--container-logs", layout.containerLogRoot, "--quiet", log.path]
            let attributed = try NodeAuditBinary.run(["parse", "--containers"] + logArguments)
            try #require(attributed.status == 0, "\(attributed.stderr)")
            let event = try #require(try Command.jsonLines(attributed.stdout).first)
            #expect(Self.object(event, "container")?["id"] as? String == layout.containerID)
            #expect(Self.object(event, "container")?["name"] as? String == layout.containerName)
            #expect(Self.object(event, "k8s", "pod")?["name"] as? String == layout.podName)
            #expect(Self.object(event, "k8s", "pod")?["namespace"] as? String == layout.namespace)

            // Without --containers the logs could be from anywhere: nothing is attributed.
            let plain = try NodeAuditBinary.run(["parse"] + logArguments)
            let plainEvent = try #require(try Command.jsonLines(plain.stdout).first)
            #expect(plainEvent["container"] == nil && plainEvent["k8s"] == nil && plainEvent["host"] == nil)
        }
    }
}
