import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// Who started a process, for processes gone before anyone looked: short-lived shells
    /// that exit as soon as they forked, filters on what they run, labels handed down.
    @Suite("Ancestry, filters and labels on the real kernel", .serialized)
    struct AncestryKernelTests {
        typealias Live = LiveKernelTests

        /// Runs a Python driver that starts `count` chains `sh -c '/bin/true MARKER-i & exit 0'`
        /// one after another, waiting for each shell; `separator` `;` makes the shell wait
        /// for /bin/true instead. Returns the driver's pid.
        static func runChains(_ marker: String, count: Int, separator: String = "&") throws -> Int32 {
            let driver = Process()
            driver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            driver.arguments = ["-c", """
                import subprocess, sys
                for i in range(int(sys.argv[2])):
                    subprocess.run(["/bin/sh", "-c", "/bin/true %s-%d %s exit 0" % (sys.argv[1], i, sys.argv[3])], check=True)
                """, marker, String(count), separator]
            try driver.run()
            driver.waitUntilExit()
            try #require(driver.terminationStatus == 0)
            return driver.processIdentifier
        }

        /// The /bin/true execs of `marker`'s chains.
        static func markerTrues(_ events: [[String: Any]], _ marker: String) -> [[String: Any]] {
            events.filter { event in
                event["category"] as? String == "exec" && Live.argv(event).first == "/bin/true"
                    && Live.argv(event).dropFirst().first?.hasPrefix(marker + "-") == true
            }
        }

        @Test("300 short-lived sh -c chains from a Python driver: each exec names the shell, gone by then, as parent, and its ancestry reaches the driver",
              arguments: Reading.allCases)
        func shortLivedChains(reading: Reading) throws {
            // The shipped rules, as they are: with `&` the shell exits before its child's
            // exec, and the kernel then names the child's new parent (init); the fork rule
            // of Rules/10-exec.rules says who made it.
            let rules = Fixtures.repositoryRoot.appendingPathComponent("Rules")
            let (waiting, background) = (Live.marker(), Live.marker())
            var driverPIDs: [Int32] = []
            let run = try Live.withLiveRun(["--ancestry-depth", "8", "--rules", rules.path]) { live in
                try live.reading(late: reading.isLate) {
                    driverPIDs.append(try Self.runChains(waiting, count: 300, separator: ";"))
                    driverPIDs.append(try Self.runChains(background, count: 300))
                }
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = try run.events()
            let shell = URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path
            let shells = Set(events.filter { Live.argv($0).first == "/bin/sh" }.compactMap(Live.pid))
            for (marker, driver) in zip([waiting, background], driverPIDs) {
                let execs = Self.markerTrues(events, marker)
                #expect(execs.count == 300, "\(execs.count) of 300 marker execs")
                var adopted = 0
                for event in execs {
                    let process = Live.process(event)
                    let parent = process["parent"] as? [String: Any]
                    if process["ppid"] as? Int != parent?["pid"] as? Int { adopted += 1 }
                    #expect(shells.contains(parent?["pid"] as? Int ?? -1) && parent?["exe"] as? String == shell,
                            "parent of \(Live.argv(event)) (ppid \(process["ppid"] ?? "?")): \(parent ?? [:])")
                    let ancestors = process["ancestors"] as? [[String: Any]] ?? []
                    #expect(ancestors.contains { $0["pid"] as? Int == Int(driver) }, "\(ancestors) misses the driver \(driver)")
                }
                print("ancestry: \(marker == waiting ? "sh -c 'true; exit 0'" : "sh -c 'true & exit 0'"): "
                    + "\(adopted) of \(execs.count) execs were adopted by another parent before their exec")
            }
        }

        @Test("300 chains inside a runc container: each exec names the shell as parent, and its ancestry ends at the container's first process",
              arguments: Reading.allCases)
        func containerChains(reading: Reading) throws {
            try #require(RuncContainer.isAvailable, "runc and busybox-static are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let container = try RuncContainer(
                script: "i=0; while [ $i -lt 300 ]; do sh -c \"/bin/true \(marker)-$i; exit 0\"; i=$((i+1)); done; sleep 1")
            defer { container.remove() }
            var firstPID: Int?
            let run = try Live.withLiveRun(["--ancestry-depth", "8"]) { live in
                try live.reading(late: reading.isLate) {
                    try container.start()
                    firstPID = try container.state()["pid"] as? Int
                    try #require(try container.waitUntilStopped(timeout: 300), "the container did not stop")
                }
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let first = try #require(firstPID)
            let execs = Self.markerTrues(try run.events(), marker)
            #expect(execs.count == 300, "\(execs.count) of 300 marker execs")
            var endingAtFirst = 0
            var wrong: [String] = []
            for event in execs {
                let process = Live.process(event)
                let parent = process["parent"] as? [String: Any]
                #expect(parent?["exe"] as? String == "/bin/busybox", "parent of \(Live.argv(event)): \(parent ?? [:])")
                let ancestors = process["ancestors"] as? [[String: Any]] ?? []
                if ancestors.last?["pid"] as? Int == first {
                    endingAtFirst += 1
                } else if wrong.count < 5 {
                    // What a wrong chain looked like: where the event was placed, and the chain.
                    let container = (event["container"] as? [String: Any])?["id"] as? String
                    wrong.append("\(Live.argv(event)) container \(container ?? "none") host \(event["host"] ?? "-") parent \(parent ?? [:]) ancestors \(ancestors)")
                }
            }
            #expect(endingAtFirst == execs.count,
                    "\(endingAtFirst) of \(execs.count) end at the container's first process (pid \(first)); wrong ones: \(wrong.joined(separator: "; "))")
        }

        @Test("a fork in a pid namespace of its own (unshare --pid) that returns the pid of a live shell of the node: the shell keeps its place, and its child names it")
        func forkAimedFromPrivateNamespace() throws {
            let marker = Live.marker()
            let shell = URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path
            let script = "read line; /bin/echo \(marker) victim"
            let victim = Process()
            victim.executableURL = URL(fileURLWithPath: "/bin/sh")
            victim.arguments = ["-c", script]
            let input = Pipe()
            victim.standardInput = input
            var aimedAt: Int32 = 0
            let run = try Live.withLiveRun(["--ancestry-depth", "4"]) { live in
                try victim.run()
                aimedAt = victim.processIdentifier
                try #require(try live.barrier(), "the events did not reach the output")
                // As root in a new pid namespace, the shell there sets the pid its next fork
                // returns: the victim's.
                let attacker = try Command.run(Command.which("unshare")!, [
                    "--pid", "--fork", "--mount-proc", "/bin/sh", "-c",
                    "echo \(aimedAt - 1) > /proc/sys/kernel/ns_last_pid && /bin/true \(marker) attacker"])
                try #require(attacker.status == 0, "unshare: \(attacker.stderr)")
                try #require(try live.barrier(), "the events did not reach the output")
                input.fileHandleForWriting.write(Data("go\n".utf8))
                victim.waitUntilExit()
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = try run.events()
            let victimPID = Int(aimedAt)
            let aimed = events.contains { event in
                let exit = (event["syscall"] as? [String: Any])?["exit"] as? Int
                return ["clone", "fork", "vfork"].contains(Live.syscallName(event) ?? "") && Live.pid(event) != victimPID && exit == victimPID
            }
            try #require(aimed, "no fork in the namespace returned pid \(victimPID): the test did not aim")
            let echo = try #require(Live.execEvents(events, marker: marker).first { Live.argv($0).first == "/bin/echo" })
            let parent = Live.process(echo)["parent"] as? [String: Any] ?? [:]
            let parentPID = parent["pid"] as? Int
            let parentExe = parent["exe"] as? String
            let parentArguments = parent["args"] as? [String]
            #expect(parentPID == victimPID && parentExe == shell, "\(parent)")
            #expect(parentArguments == ["/bin/sh", "-c", script], "the victim's arguments: \(parent)")
        }

        @Test("a filter dropping /usr/bin/true removes exactly the marker execs and counts them; a label reaches every descendant of a 3-level tree",
              arguments: Reading.allCases)
        func filterAndLabel(reading: Reading) throws {
            let marker = Live.marker()
            let directory = try Fixtures.temporaryDirectory(marker)
            defer { try? FileManager.default.removeItem(at: directory) }
            // The tree's root is a script of its own name (its comm), labelled; below it two
            // shells and an echo, each exec'd by the one above.
            let root = directory.appendingPathComponent("tree-root")
            try "#!/bin/sh\n/bin/sh -c '/bin/sh -c \"/bin/echo \(marker) level3\"; /bin/echo \(marker) level2'\n"
                .write(to: root, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path)
            let trueExe = URL(fileURLWithPath: "/bin/true").resolvingSymlinksInPath().path

            let run = try Live.withLiveRun(["--filter", "drop exe=\(trueExe)", "--label", "tree comm=tree-root"]) { live in
                try live.reading(late: reading.isLate) {
                    _ = try Self.runChains(marker, count: 50)
                    _ = try Live.spawn(root.path, [])
                }
                try #require(try live.barrier(executable: "/bin/echo"), "the events did not reach the output")
            }
            let events = try run.events()
            #expect(!events.contains { Live.argv($0).first == "/bin/true" }, "a /bin/true exec passed the filter")
            #expect(run.finalCounter("filtered") == 50, "filtered=\(run.finalCounter("filtered") ?? -1)")

            let tree = Live.execEvents(events, marker: marker).filter { Live.argv($0).first == "/bin/echo" }
            #expect(tree.count == 2)
            for event in tree {
                #expect((event["labels"] as? [String])?.contains("tree") == true, "\(Live.argv(event)): \(event["labels"] ?? "none")")
            }
            // The script's own exec (argv /bin/sh PATH, labelled by its comm) and the two shells below it.
            let shells = events.filter { event in
                Live.argv(event).first == "/bin/sh" && (Live.argv(event).last == root.path || Live.argv(event).last?.contains("level") == true)
            }
            #expect(shells.count == 3 && shells.allSatisfy { ($0["labels"] as? [String])?.contains("tree") == true },
                    "\(shells.map { "\(Live.argv($0)) \($0["labels"] ?? "none")" })")
        }
    }
}
