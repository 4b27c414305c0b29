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
        /// one after another, waiting for each shell; returns the driver's pid.
        static func runChains(_ marker: String, count: Int) throws -> Int32 {
            let driver = Process()
            driver.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            driver.arguments = ["-c", """
                import subprocess, sys
                for i in range(int(sys.argv[2])):
                    subprocess.run(["/bin/sh", "-c", "/bin/true %s-%d & exit 0" % (sys.argv[1], i)], check=True)
                """, marker, String(count)]
            try driver.run()
            driver.waitUntilExit()
            try #require(driver.terminationStatus == 0)
            return driver.processIdentifier
        }

        @Test("300 short-lived sh -c chains from a Python driver: each exec names the shell as parent, and its ancestry reaches the driver")
        func shortLivedChains() throws {
            let marker = Live.marker()
            var driverPID: Int32 = 0
            let run = try Live.withLiveRun(["--ancestry-depth", "8"]) { live in
                driverPID = try Self.runChains(marker, count: 300)
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let execs = try run.events().filter { event in
                event["category"] as? String == "exec" && Live.argv(event).first == "/bin/true"
                    && Live.argv(event).last?.hasPrefix(marker + "-") == true
            }
            #expect(execs.count == 300, "\(execs.count) of 300 marker execs")
            let shell = URL(fileURLWithPath: "/bin/sh").resolvingSymlinksInPath().path
            var reachingDriver = 0
            for event in execs {
                let process = Live.process(event)
                let parent = process["parent"] as? [String: Any]
                #expect(parent?["exe"] as? String == shell, "parent of \(Live.argv(event)): \(parent ?? [:])")
                let ancestors = process["ancestors"] as? [[String: Any]] ?? []
                if ancestors.contains(where: { $0["pid"] as? Int == Int(driverPID) }) { reachingDriver += 1 }
            }
            #expect(reachingDriver == execs.count, "\(reachingDriver) of \(execs.count) reach the driver (pid \(driverPID))")
        }

        @Test("a filter dropping /usr/bin/true removes exactly the marker execs and counts them; a label reaches every descendant of a 3-level tree")
        func filterAndLabel() throws {
            let marker = Live.marker()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(marker)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            // The tree's root is a script of its own name (its comm), labelled; below it two
            // shells and an echo, each exec'd by the one above.
            let root = directory.appendingPathComponent("tree-root")
            try "#!/bin/sh\n/bin/sh -c '/bin/sh -c \"/bin/echo \(marker) level3\"; /bin/echo \(marker) level2'\n"
                .write(to: root, atomically: true, encoding: .utf8)
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path)
            let trueExe = URL(fileURLWithPath: "/bin/true").resolvingSymlinksInPath().path

            let run = try Live.withLiveRun(["--filter", "drop exe=\(trueExe)", "--label", "tree comm=tree-root"]) { live in
                _ = try Self.runChains(marker, count: 50)
                _ = try Live.spawn(root.path, [])
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = try run.events()
            #expect(!events.contains { Live.argv($0).first == "/bin/true" }, "a /bin/true exec passed the filter")
            #expect(run.finalCounter("filtered") == 50, "filtered=\(run.finalCounter("filtered") ?? -1)")

            let tree = Live.execEvents(events, marker: marker).filter { Live.argv($0).first == "/bin/echo" }
            #expect(tree.count == 2)
            for event in tree {
                #expect((event["labels"] as? [String])?.contains("tree") == true, "\(Live.argv(event)): \(event["labels"] ?? "none")")
            }
            let shells = events.filter { Live.argv($0).first == "/bin/sh" && Live.argv($0).last?.contains(marker) == true }
            #expect(shells.count == 2 && shells.allSatisfy { ($0["labels"] as? [String])?.contains("tree") == true },
                    "\(shells.map { $0["labels"] ?? "none" })")
        }
    }
}
