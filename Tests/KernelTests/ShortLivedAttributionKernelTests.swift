import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// Container processes that are gone before nodeaudit reads their events: one-shot
    /// `kubectl exec`s and short-lived pods, run for real by containerd, podman and runc,
    /// on an idle machine, beside busy loops and with nodeaudit reading late. Attribution
    /// comes from the runtime's launches in the stream, so it must not depend on timing.
    @Suite("Short-lived container processes on the real kernel", .serialized)
    struct ShortLivedAttributionKernelTests {
        typealias Live = LiveKernelTests

        /// How many times each case runs.
        static let rounds = 20

        enum Load: String, CaseIterable, CustomTestStringConvertible {
            case idle = "an idle machine"
            case busy = "two nice -n 19 busy loops"
            /// What a busy node's late reading comes to, without depending on how late: every
            /// runtime command, supervisor and container process is gone before its events
            /// are read.
            case lateReader = "nodeaudit stopped while they run"
            var testDescription: String { rawValue }

            /// Starts what this load needs; nil for none.
            func start() throws -> CPUHogs? { self == .busy ? try CPUHogs(count: 2) : nil }

            /// Runs the case's rounds, with nodeaudit stopped meanwhile for a late reader.
            func run(_ live: LiveRun, rounds: Int, _ round: (Int) throws -> Void) throws {
                try live.reading(late: self == .lateReader) {
                    for number in 0..<rounds { try round(number) }
                }
            }
        }

        /// One case's events: what ran, where it should be attributed, and whether it is in
        /// an exec session.
        struct Expectation {
            var name: String
            var containerID: String
            var podUID: String?
            var podName: String?
            var execSession: Bool
            var events: [[String: Any]]
        }

        static func object(_ event: [String: Any], _ path: String...) -> [String: Any]? {
            var current: [String: Any]? = event
            for key in path { current = current?[key] as? [String: Any] }
            return current
        }

        /// The execs of busybox (the containers' only program) whose argv holds `marker`
        /// followed by `word`, and starts with `program` when given: the runtime commands
        /// on the host that carry the same words are not among them.
        static func events(_ all: [[String: Any]], marker: String, program: String? = nil, word: String...) -> [[String: Any]] {
            all.filter { event in
                let argv = Live.argv(event)
                return Live.process(event)["exe"] as? String == "/bin/busybox" && (program == nil || argv.first == program)
                    && argv.contains { argument in word.contains { argument.contains(marker + $0) } }
            }
        }

        /// Checks every event of every case, and that none of them says host.
        static func check(_ expectations: [Expectation], count: Int) {
            for expected in expectations {
                #expect(expected.events.count == count, "\(expected.name): \(expected.events.count) events of \(count)")
                let wrong = expected.events.filter { event in
                    object(event, "container")?["id"] as? String != expected.containerID
                        || (expected.podUID != nil && object(event, "k8s", "pod")?["uid"] as? String != expected.podUID)
                        || (expected.podName != nil && object(event, "k8s", "pod")?["name"] as? String != expected.podName)
                        || (event["exec_session"] != nil) != expected.execSession
                        || event["host"] != nil || event["unattributed"] != nil
                }
                #expect(wrong.isEmpty, "\(expected.name): \(wrong.count) of \(expected.events.count) wrong, first: \(wrong.first ?? [:])")
            }
        }

        /// Reads the run's events, each of them whole: none split by being read late (its
        /// rest counted as `late` records), none lost.
        static func wholeEvents(_ run: LiveRun) throws -> [[String: Any]] {
            #expect(run.finalCounter("late") == 0 && run.finalCounter("kernel_lost") == 0, "\(run.stderrForFailure)")
            return try run.events()
        }

        /// The exec session of a shell and the program it exec'd or forked is one.
        static func sameSession(_ shells: [[String: Any]], _ children: [[String: Any]], round: (([String: Any]) -> String?)) -> Bool {
            let sessions = Dictionary(shells.compactMap { shell in round(shell).map { ($0, object(shell, "exec_session")?["id"] as? String) } },
                                      uniquingKeysWith: { first, _ in first })
            return children.allSatisfy { child in
                guard let key = round(child), let session = object(child, "exec_session")?["id"] as? String else { return false }
                return sessions[key] == session
            }
        }

        /// The round number a marker event's argv ends with.
        static func round(_ event: [String: Any]) -> String? {
            Live.argv(event).last?.split(separator: " ").last.map(String.init)
        }

        @Test("containerd: one-shot execs, short-lived pods and their children, 20 times each, carry their container, pod and exec session",
              arguments: Load.allCases)
        func containerd(load: Load) throws {
            try #require(Containerd.isAvailable, "containerd, ctr, runc or busybox-static are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let tag = String(marker.suffix(8))
            let logs = try Fixtures.temporaryDirectory("kubelet-logs")
            defer { try? FileManager.default.removeItem(at: logs) }
            // containerd (runc) creates each container's cgroup, as the kubelet has it do.
            let layout = { (name: String) in
                try KubeletLayout(driver: .cgroupfs(controllerRoot: ""), tag: "\(tag)-\(name)", createsCgroups: false, logRoot: logs)
            }
            let running = try layout("long")
            let pods = try (0..<Self.rounds).map { try layout("pod\($0)") }
            defer { ([running] + pods).forEach { $0.remove() } }
            let containerd = try Containerd()
            defer { containerd.stop() }
            let hogs = try load.start()
            defer { hogs?.stop() }

            let run = try Live.withLiveRun(["--pod-logs", running.podLogRoot, "--container-logs", running.containerLogRoot]) { live in
                try containerd.run(id: running.containerID, cgroup: running.cgroupPath, script: "exec /bin/sleep 600")
                try load.run(live, rounds: Self.rounds) { round in
                    try containerd.exec(running.containerID, ["/bin/cat", "/etc/passwd", "/\(marker)-cat \(round)"])
                    try containerd.exec(running.containerID, ["/bin/sh", "-c", "/bin/true \(marker)-exec \(round)"])
                    try containerd.exec(running.containerID, ["/bin/sh", "-c", "/bin/true \(marker)-slow \(round); /bin/sleep 1"])
                    let pod = pods[round]
                    let result = try containerd.runOnce(id: pod.containerID, cgroup: pod.cgroupPath,
                                                        ["/bin/sh", "-c", "/bin/true \(marker)-pod \(round); /bin/true \(marker)-last \(round)"])
                    try #require(result.status == 0, "ctr run --rm: \(result.stderr)")
                }
                try #require(try live.barrier(), "the events did not reach the output; nodeaudit said: \(live.stderrForFailure)")
            }
            let all = try Self.wholeEvents(run)
            let exec = { (name: String, program: String, word: String) in
                Expectation(name: name, containerID: running.containerID, podUID: running.podUID, podName: running.podName,
                            execSession: true, events: Self.events(all, marker: marker, program: program, word: word))
            }
            let cases = [
                exec("kubectl exec -- cat", "/bin/cat", "-cat"),
                exec("kubectl exec -- sh -c", "/bin/sh", "-exec"),
                exec("the program the exec's shell ran", "/bin/true", "-exec"),
                exec("a longer exec (control)", "/bin/true", "-slow"),
            ]
            Self.check(cases, count: Self.rounds)
            #expect(Self.sameSession(cases[1].events, cases[2].events, round: Self.round),
                    "the exec's shell and its program are not in one exec session")
            // Short-lived pods: their first process and its two children, each in its own pod.
            let podEvents = Self.events(all, marker: marker, word: "-pod", "-last")
            #expect(podEvents.count == 3 * Self.rounds,
                    "\(podEvents.count) events of short-lived pods: \(podEvents.map { Live.argv($0) }); nodeaudit said: \(run.stderrForFailure)")
            let wrong = podEvents.filter { event in
                guard let round = Self.round(event).flatMap(Int.init), round < pods.count else { return true }
                return Self.object(event, "container")?["id"] as? String != pods[round].containerID
                    || Self.object(event, "k8s", "pod")?["uid"] as? String != pods[round].podUID
                    || Self.object(event, "k8s", "pod")?["name"] as? String != pods[round].podName
                    || event["exec_session"] != nil || event["host"] != nil || event["unattributed"] != nil
            }
            #expect(wrong.isEmpty, "\(wrong.count) wrong, first: \(wrong.first ?? [:])")
            // Nothing that ran in a container says host: every exec of busybox is a container's.
            let busybox = all.filter { Live.process($0)["exe"] as? String == "/bin/busybox" }
            #expect(!busybox.isEmpty && busybox.allSatisfy { $0["host"] == nil && $0["container"] != nil },
                    "\(busybox.first { $0["container"] == nil } ?? [:])")
        }

        @Test("podman (conmon and runc): short-lived containers and one-shot execs, 20 times each, carry their container", arguments: Load.allCases)
        func podman(load: Load) throws {
            try #require(PodmanStorage.isAvailable && BusyboxRootfs.isAvailable, "podman, runc or busybox-static are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let storage = try PodmanStorage()
            defer { storage.remove() }
            let rootfs = storage.directory.appendingPathComponent("rootfs")
            try BusyboxRootfs.make(at: rootfs)
            let podmanRun = { (options: [String], argv: [String]) in
                ["run"] + PodmanStorage.runQuirks + ["--network", "none"] + options + ["--rootfs", rootfs.path] + argv
            }
            // The container execs go into runs in the foreground, as a process of the test's:
            // with --detach, podman's exit is not seen while its conmon stays.
            let name = "\(marker)-running"
            let foreground = try LiveRun(executable: storage.podman[0],
                                         arguments: Array(storage.podman.dropFirst()) + podmanRun(["--rm", "--name", name], ["/bin/sleep", "600"]))
            defer {
                _ = try? storage.run(["rm", "--force", "--time", "0", name])
                foreground.stop(signal: SIGKILL)
            }
            let started = try foreground.start(timeout: 60) { (try? storage.run(["exec", name, "/bin/true"]).status) == 0 }
            try #require(started, "podman run: \(foreground.stderr)")
            let inspected = try storage.run(["inspect", "--format", "{{.Id}}", name])
            let running = inspected.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            try #require(running.count == 64, "podman inspect: \(inspected.stderr)")
            let hogs = try load.start()
            defer { hogs?.stop() }

            let run = try Live.withLiveRun { live in
                try load.run(live, rounds: Self.rounds) { round in
                    for argv in [["/bin/cat", "/etc/passwd", "/\(marker)-cat \(round)"], ["/bin/sh", "-c", "/bin/true \(marker)-exec \(round)"]] {
                        let exec = try storage.run(["exec", name] + argv)
                        try #require(exec.status == 0 || argv[0] == "/bin/cat", "podman exec \(argv): \(exec.status) \(exec.stderr)")
                    }
                    let result = try storage.run(podmanRun(["--rm", "--name", "\(marker)-\(round)"],
                                                           ["/bin/sh", "-c", "/bin/true \(marker)-pod \(round); /bin/true \(marker)-last \(round)"]))
                    try #require(result.status == 0, "podman run: \(result.stderr)")
                }
                try #require(try live.barrier(), "the events did not reach the output; nodeaudit said: \(live.stderrForFailure)")
            }
            let all = try Self.wholeEvents(run)
            let exec = { (name: String, program: String, word: String) in
                Expectation(name: name, containerID: running, podUID: nil, podName: nil, execSession: true,
                            events: Self.events(all, marker: marker, program: program, word: word))
            }
            Self.check([exec("podman exec cat", "/bin/cat", "-cat"), exec("podman exec sh -c", "/bin/sh", "-exec"),
                        exec("the program the exec's shell ran", "/bin/true", "-exec")], count: Self.rounds)
            // Each short-lived container's first process and children share one container id,
            // a different one each round.
            let podEvents = Self.events(all, marker: marker, word: "-pod", "-last")
            #expect(podEvents.count == 3 * Self.rounds)
            let byRound = Dictionary(grouping: podEvents) { Self.round($0) ?? "" }
            #expect(byRound.count == Self.rounds)
            for (round, events) in byRound {
                let ids = Set(events.map { Self.object($0, "container")?["id"] as? String ?? "none" })
                #expect(ids.count == 1 && !ids.contains("none") && !ids.contains(running), "round \(round): \(ids)")
                let misplaced = events.filter { $0["host"] != nil || $0["exec_session"] != nil || $0["unattributed"] != nil }
                #expect(misplaced.isEmpty, "round \(round): \(misplaced.map { [$0["id"], $0["host"], $0["exec_session"], $0["unattributed"], $0["process"]] })")
            }
        }

        @Test("runc run by hand: a container whose processes exit at once is attributed with runc's id", arguments: Load.allCases)
        func runcByHand(load: Load) throws {
            try #require(RuncContainer.isAvailable, "runc and busybox-static are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let containers = try (0..<Self.rounds).map { round in
                try RuncContainer(script: "/bin/true \(marker)-pod \(round); /bin/true \(marker)-last \(round)")
            }
            defer { containers.forEach { $0.remove() } }
            let hogs = try load.start()
            defer { hogs?.stop() }
            let run = try Live.withLiveRun { live in
                try load.run(live, rounds: containers.count) { round in
                    try containers[round].start()
                    try #require(try containers[round].waitUntilStopped(), "the container did not stop")
                }
                try #require(try live.barrier(), "the events did not reach the output; nodeaudit said: \(live.stderrForFailure)")
            }
            let all = try Self.wholeEvents(run)
            let events = Self.events(all, marker: marker, word: "-pod", "-last")
            #expect(events.count == 3 * Self.rounds)
            let wrong = events.filter { event in
                guard let round = Self.round(event).flatMap(Int.init), round < containers.count else { return true }
                return Self.object(event, "container")?["id"] as? String != containers[round].id || event["host"] != nil
            }
            #expect(wrong.isEmpty, "\(wrong.count) wrong, first: \(wrong.first ?? [:])")
        }

        @Test("a program named runc outside the trusted paths, with a container's id and a pid file in its argv, leaves its children on the host")
        func untrustedRuntime() throws {
            try #require(RuncContainer.isAvailable && ContainerActor.isAvailable, "runc, busybox-static or cc are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let directory = try Fixtures.temporaryDirectory("fake-runc")
            defer { try? FileManager.default.removeItem(at: directory) }
            let fake = directory.appendingPathComponent("runc").path
            try ContainerActor.build(to: fake)
            // A real container, so that the id in the fake's argv names one nodeaudit knows.
            let container = try RuncContainer(script: "exec /bin/sleep 600")
            defer { container.remove() }
            let pidFile = directory.appendingPathComponent("exec.pid").path
            let run = try Live.withLiveRun { live in
                try container.start()
                let child = Process()
                child.executableURL = URL(fileURLWithPath: fake)
                child.arguments = ["--root", "/run/runc", "exec", "--detach", "--pid-file", pidFile, container.id, "/bin/sh"]
                child.environment = ["ACTOR_CHILD": "/bin/true", "ACTOR_MARKER": marker, "ACTOR_PID_FILE": pidFile]
                try child.run()
                child.waitUntilExit()
                // The second child execs once the fake has exited and init adopted it.
                let both = Wait.until(seconds: 60) {
                    Live.execEvents((try? live.events()) ?? [], marker: marker).filter { Live.argv($0).first == "/bin/true" }.count >= 2
                }
                try #require(both, "the fake runtime's two children did not both exec")
                try #require(try live.barrier(), "the events did not reach the output; nodeaudit said: \(live.stderrForFailure)")
            }
            let children = Live.execEvents(try run.events(), marker: marker).filter { Live.argv($0).first == "/bin/true" }
            #expect(children.count == 2)
            #expect(children.allSatisfy { $0["host"] as? Bool == true && $0["container"] == nil && $0["exec_session"] == nil },
                    "\(children)")
        }

        @Test("a USER_LOGIN forged by a container's first process is the container's, names the sender's real program, and opens no session")
        func forgedLogin() throws {
            try #require(Containerd.isAvailable && ContainerActor.isAvailable, "containerd, ctr, runc, busybox-static or cc are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let logs = try Fixtures.temporaryDirectory("kubelet-logs")
            defer { try? FileManager.default.removeItem(at: logs) }
            let pod = try KubeletLayout(driver: .cgroupfs(controllerRoot: ""), tag: String(marker.suffix(8)), createsCgroups: false, logRoot: logs)
            defer { pod.remove() }
            // Started as from an admin's login: every container process inherits its audit
            // session, which a forged login must not take over.
            let containerd = try Containerd(loginUID: 4242)
            defer { containerd.stop() }
            try ContainerActor.build(to: containerd.rootfsPath + "/actor")
            let address = "203.0.113.\(Int.random(in: 1...254))"
            let text = "op=login id=0 exe=\"/usr/sbin/sshd\" hostname=attacker.example addr=\(address) terminal=ssh res=success"
            let run = try Live.withLiveRun(["--pod-logs", pod.podLogRoot, "--container-logs", pod.containerLogRoot]) { live in
                let sent = try containerd.runOnce(id: pod.containerID, cgroup: pod.cgroupPath, ["/actor", "send-user-message", "1112", text])
                try #require(sent.status == 0, "the container could not send: \(sent.stderr)")
                try #require(try live.barrier(), "the events did not reach the output; nodeaudit said: \(live.stderrForFailure)")
            }
            let all = try run.events()
            let forged = try #require(all.first { Self.object($0, "login")?["address"] as? String == address }, "no login event")
            #expect(Self.object(forged, "container")?["id"] as? String == pod.containerID)
            #expect(Self.object(forged, "k8s", "pod")?["uid"] as? String == pod.podUID)
            #expect(forged["host"] == nil)
            #expect(Live.process(forged)["exe"] as? String == "/actor", "\(Live.process(forged))")
            #expect(Self.object(forged, "login")?["exe"] as? String == "/usr/sbin/sshd")
            let session = try #require(Live.process(forged)["session"] as? Int ?? (Self.object(forged, "login")?["session"] as? Int),
                                       "the forged login carries no audit session: \(forged)")
            let forgedID = try #require(forged["id"] as? String)
            let forgedSerial = try #require(forged["serial"] as? Int)
            let taken = all.filter { Self.object($0, "session")?["login_event"] as? String == forgedID }
            #expect(taken.isEmpty, "\(taken.count) events carry the forged login's session, first: \(taken.first ?? [:])")
            // The node's side of the same audit session after it (the shim's runc delete)
            // exists, and is given no login.
            let after = all.filter { ($0["serial"] as? Int ?? 0) > forgedSerial && Live.process($0)["session"] as? Int == session }
            #expect(after.contains { $0["host"] as? Bool == true }, "no host event in the container's audit session after the forged login")
            #expect(after.allSatisfy { $0["session"] == nil }, "events of session \(session) were given a login")
        }
    }
}
