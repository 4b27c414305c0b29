import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// `nodeaudit run` against the real kernel with the default rules of `Rules/`: what the
    /// kernel logs must come out as events, completely, and the kernel must be left as found.
    @Suite("nodeaudit run on the real kernel", .serialized)
    struct LiveKernelTests {
        static let liveArguments = ["--rules", "Rules", "--cleanup", "--stats-interval", "0"]

        /// A fresh word no other process on the machine prints.
        static func marker() -> String { "nodeaudit-test-\(UUID().uuidString.prefix(8).lowercased())" }

        /// Starts `nodeaudit run`, runs `work`, stops it with SIGTERM; checks that the audit
        /// pid was given back and returns the run with its output.
        static func withLiveRun(_ extra: [String] = [], stdout: Pipe? = nil, _ work: (LiveRun) throws -> Void) throws -> LiveRun {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let run = try LiveRun(liveArguments + extra, stdout: stdout)
            try #require(try run.start(), "nodeaudit run did not start: \(run.stderr)")
            try work(run)
            #expect(run.stop() == 0, "exit status; stderr: \(run.stderr)")
            #expect(try KernelAudit.status()["pid"] == "0", "the audit pid must be given back")
            return run
        }

        static func process(_ event: [String: Any]) -> [String: Any] { event["process"] as? [String: Any] ?? [:] }
        static func argv(_ event: [String: Any]) -> [String] { process(event)["argv"] as? [String] ?? [] }
        static func pid(_ event: [String: Any]) -> Int? { process(event)["pid"] as? Int }
        static func syscallName(_ event: [String: Any]) -> String? { (event["syscall"] as? [String: Any])?["name"] as? String }
        static func userID(_ event: [String: Any], _ field: String) -> Int? { (process(event)[field] as? [String: Any])?["id"] as? Int }

        static func execEvents(_ events: [[String: Any]], marker: String) -> [[String: Any]] {
            events.filter { $0["category"] as? String == "exec" && argv($0).contains(marker) }
        }

        /// Runs a program to its end with the given working directory.
        static func spawn(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> Int32 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            if let directory { process.currentDirectoryURL = directory }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            return process.processIdentifier
        }

        @Test("an exec with a marker gives exactly one exec event with its argv, cwd, exe, pid, ppid and uid")
        func markerExec() throws {
            let marker = Self.marker()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(marker)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            var echoPID: Int32 = 0
            var setprivPID: Int32 = 0
            let run = try Self.withLiveRun { live in
                echoPID = try Self.spawn("/bin/echo", [marker, "two words"], in: directory)
                // The same exec as an unprivileged user: setpriv execs echo in its own pid.
                setprivPID = try Self.spawn("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups",
                                                                 "/bin/echo", marker, "nobody"], in: directory)
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = Self.execEvents(try run.events(), marker: marker)

            let root = events.filter { Self.pid($0) == Int(echoPID) }
            try #require(root.count == 1, "events for pid \(echoPID): \(root)")
            let process = Self.process(root[0])
            #expect(process["argv"] as? [String] == ["/bin/echo", marker, "two words"])
            #expect(process["argc"] as? Int == 3)
            #expect(process["cwd"] as? String == directory.path)
            #expect(process["exe"] as? String == URL(fileURLWithPath: "/bin/echo").resolvingSymlinksInPath().path)
            #expect(process["ppid"] as? Int == Int(getpid()))
            #expect(Self.userID(root[0], "uid") == Int(getuid()))
            #expect(Self.syscallName(root[0]) == "execve")
            #expect((root[0]["keys"] as? [String])?.contains("exec") == true)

            let unprivileged = events.filter { Self.pid($0) == Int(setprivPID) }
            #expect(unprivileged.count == 2, "setpriv's exec and echo's exec: \(unprivileged)")
            let echo = unprivileged.first { Self.argv($0).first == "/bin/echo" }
            #expect(Self.argv(echo ?? [:]) == ["/bin/echo", marker, "nobody"])
            #expect(Self.userID(echo ?? [:], "uid") == 65534)
            #expect(Self.userID(echo ?? [:], "euid") == 65534)
            #expect((Self.process(echo ?? [:])["uid"] as? [String: Any])?["name"] as? String == "nobody")
            #expect(Self.process(echo ?? [:])["ppid"] as? Int == Int(getpid()))
            #expect(events.count == 3, "no other exec carries the marker")
        }

        /// Connects over 127.0.0.1 and ::1 to its own listeners, binds a socket to `lo`
        /// (SO_BINDTODEVICE) and maps anonymous executable memory; prints its pid and ports.
        static let networkScript = """
            import mmap, os, socket
            listener4 = socket.socket(socket.AF_INET); listener4.bind(("127.0.0.1", 0)); listener4.listen()
            listener6 = socket.socket(socket.AF_INET6); listener6.bind(("::1", 0)); listener6.listen()
            port4, port6 = listener4.getsockname()[1], listener6.getsockname()[1]
            client4 = socket.socket(socket.AF_INET); client4.connect(("127.0.0.1", port4))
            client6 = socket.socket(socket.AF_INET6); client6.connect(("::1", port6))
            client4.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
            region = mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC)
            print(os.getpid(), port4, port6)
            """

        @Test("connect to 127.0.0.1 and ::1, setsockopt SO_BINDTODEVICE and an executable mmap give decoded events")
        func networkAndMemory() throws {
            var output = ""
            let run = try Self.withLiveRun { live in
                let result = try Command.run("/usr/bin/python3", ["-c", Self.networkScript])
                try #require(result.status == 0, "helper failed: \(result.stderr)")
                output = result.stdoutText
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let numbers = output.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
            try #require(numbers.count == 3, "helper printed \(output)")
            let (pid, port4, port6) = (numbers[0], numbers[1], numbers[2])
            let mine = try run.events().filter { Self.pid($0) == pid }

            func socket(_ event: [String: Any]) -> [String: Any] { event["socket"] as? [String: Any] ?? [:] }
            let connects = mine.filter { Self.syscallName($0) == "connect" }
            let connect4 = connects.first { socket($0)["family"] as? String == "inet" }
            let connect6 = connects.first { socket($0)["family"] as? String == "inet6" }
            #expect(socket(connect4 ?? [:])["address"] as? String == "127.0.0.1")
            #expect(socket(connect4 ?? [:])["port"] as? Int == port4)
            #expect(socket(connect6 ?? [:])["address"] as? String == "::1")
            #expect(socket(connect6 ?? [:])["port"] as? Int == port6)
            #expect(connect4?["category"] as? String == "network")
            #expect((connect4?["syscall"] as? [String: Any])?["success"] as? Bool == true)

            let binds = mine.filter { Self.syscallName($0) == "bind" }
            // The listeners bound port 0 (the kernel picks one): the SOCKADDR says what was asked.
            #expect(Set(binds.compactMap { socket($0)["address"] as? String }) == ["127.0.0.1", "::1"])
            #expect(Set(binds.compactMap { socket($0)["port"] as? Int }) == [0])

            let setsockopt = mine.filter { Self.syscallName($0) == "setsockopt" }
            #expect(setsockopt.count == 1)
            #expect((setsockopt.first?["keys"] as? [String]) == ["net_setsockopt"])

            // Rules/30-memory.rules tags the rule with its ATT&CK technique, a second key.
            let mmaps = mine.filter { Self.syscallName($0) == "mmap" && ($0["keys"] as? [String]) == ["mem_exec", "T1620"] }
            #expect(mmaps.count >= 1, "no mem_exec event for pid \(pid)")
            #expect(mmaps.allSatisfy { ($0["techniques"] as? [String]) == ["T1620"] })
        }

        @Test("a burst of 5,000 execs gives 5,000 exec events, with no kernel loss and no serial gap")
        func execBurst() throws {
            let marker = Self.marker()
            let count = 5000
            let run = try Self.withLiveRun { live in
                let burst = try Command.run(Fixtures.repositoryRoot.appendingPathComponent("Scripts/exec-burst").path,
                                            [String(count), marker])
                try #require(burst.status == 0, "\(burst.stderr)")
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = Self.execEvents(try run.events(), marker: marker).filter { Self.argv($0).first == "/bin/true" }
            let sequence = Set(events.compactMap { event -> Int? in
                let argv = Self.argv(event)
                return argv.count == 3 ? Int(argv[2]) : nil
            })
            #expect(events.count == count)
            let missing = Set(0..<count).subtracting(sequence).sorted()
            #expect(missing.isEmpty, "missing exec numbers: \(missing.prefix(20))")
            #expect(run.finalCounter("kernel_lost") == 0, "\(run.stderr)")
            #expect(run.finalCounter("missing_serials") == 0)
            #expect(run.finalCounter("overflows") == 0)
            #expect(run.finalCounter("malformed") == 0)
            #expect(run.finalCounter("in_flight") == 0)
        }

        @Test("SIGTERM while a flood comes faster than nodeaudit handles it: it stops, gives the audit pid back and leaves no event in flight")
        func stopDuringFlood() throws {
            let directory = try Fixtures.temporaryDirectory("flood")
            defer { try? FileManager.default.removeItem(at: directory) }
            let rules = directory.appendingPathComponent("rules")
            try FileManager.default.copyItem(at: Fixtures.repositoryRoot.appendingPathComponent("Rules"), to: rules)
            try "-a always,exit -F arch=b64 -S getpgid -F key=\(Self.marker())\n"
                .write(to: rules.appendingPathComponent("95-flood.rules"), atomically: true, encoding: .utf8)
            // Two processes calling getpgid(2) as fast as they can: more records than any
            // collector handles, for as long as the test lasts (the stop included).
            var floods: [Process] = []
            defer {
                for flood in floods where flood.isRunning { kill(flood.processIdentifier, SIGKILL) }
                floods.forEach { $0.waitUntilExit() }
            }
            let run = try Self.withLiveRun(["--rules", rules.path]) { live in
                for _ in 0..<2 {
                    let flood = Process()
                    flood.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
                    flood.arguments = ["-c", "import os\nwhile True: os.getpgid(0)"]
                    try flood.run()
                    floods.append(flood)
                }
                let flowing = Wait.until(seconds: 60) {
                    ((try? FileManager.default.attributesOfItem(atPath: live.stdoutFile.path))?[.size] as? Int ?? 0) > 4 << 20
                }
                try #require(flowing, "the flood's events did not reach the output")
            }
            #expect(floods.allSatisfy { $0.isRunning }, "the flood ended before the stop")
            #expect(run.finalCounter("in_flight") == 0, "\(run.stderr.suffix(600))")
        }

        @Test("SIGTERM during a burst: every exec logged before the signal is in the output; the audit pid is 0 after")
        func stopDuringBurst() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let marker = Self.marker()
            let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(marker).spawned")
            defer { try? FileManager.default.removeItem(at: log) }
            let run = try LiveRun(Self.liveArguments)
            try #require(try run.start(), "nodeaudit run did not start: \(run.stderr)")

            let burst = Process()
            burst.executableURL = Fixtures.repositoryRoot.appendingPathComponent("Scripts/exec-burst")
            burst.arguments = ["8000", marker, "2000", log.path]
            burst.standardError = FileHandle.nullDevice
            try burst.runWithStopSignalsUnblocked()
            defer { if burst.isRunning { kill(burst.processIdentifier, SIGKILL); burst.waitUntilExit() } }
            // Stop in the middle of the burst: once 1,500 execs have been spawned.
            func spawnedCount() -> Int {
                (try? String(contentsOf: log, encoding: .utf8))?.split(separator: "\n").count ?? 0
            }
            let progressed = Wait.until(seconds: 120) { spawnedCount() >= 1500 || !burst.isRunning }

            #expect(progressed, "the burst did not progress")
            let signalled = UInt64(Date().timeIntervalSince1970 * 1000)
            #expect(run.stop() == 0, "exit status; stderr: \(run.stderr)")
            kill(burst.processIdentifier, SIGTERM)
            burst.waitUntilExit()
            #expect(try KernelAudit.status()["pid"] == "0", "the audit pid must be given back")

            // The spawner logs each child after the exec returned; 100 ms is ample for the
            // kernel to have emitted that exec's records.
            let spawnedBefore = try String(contentsOf: log, encoding: .utf8).split(separator: "\n").compactMap { line -> Int? in
                let parts = line.split(separator: " ")
                guard parts.count == 2, let pid = Int(parts[0]), let time = UInt64(parts[1]) else { return nil }
                return time + 100 <= signalled ? pid : nil
            }
            try #require(spawnedBefore.count > 1000, "the burst had barely started: \(spawnedBefore.count)")
            let seen = Set(Self.execEvents(try run.events(), marker: marker).compactMap { Self.pid($0) })
            let missing = spawnedBefore.filter { !seen.contains($0) }
            #expect(missing.isEmpty, "\(missing.count) of \(spawnedBefore.count) execs before SIGTERM are missing")
            #expect(run.finalCounter("in_flight") == 0)
        }

        @Test("beside a running auditd: unicast is refused with a clear message; multicast sees the execs auditd logs; --take-over replaces it")
        func besideAuditd() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            try #require(try KernelAudit.status()["pid"] == "0", "another audit daemon is running on this machine")
            let auditd = try ReferenceAuditd()
            defer { auditd.stop() }
            try #require(try auditd.waitUntilRegistered(), "auditd did not register")

            let refused = try NodeAuditBinary.run(["run"] + Self.liveArguments)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("already goes to pid \(auditd.pid) (auditd)"), "\(refused.stderr)")
            #expect(refused.stderr.contains("--multicast"))
            #expect(try KernelAudit.status()["pid"] == String(auditd.pid), "auditd keeps the stream")

            let marker = Self.marker()
            let run = try LiveRun(Self.liveArguments + ["--multicast"])
            try #require(try run.start(), "nodeaudit run --multicast did not start: \(run.stderr)")
            for index in 0..<50 { _ = try Self.spawn("/bin/true", [marker, String(index)]) }
            try #require(try run.barrier(), "the events did not reach the output")
            #expect(run.stop() == 0, "exit status; stderr: \(run.stderr)")
            #expect(try KernelAudit.status()["pid"] == String(auditd.pid), "auditd still holds the stream")

            // --take-over stops auditd (SIGTERM; the kernel allows no replacement) and registers.
            let takeOver = try LiveRun(Self.liveArguments + ["--take-over"])
            try #require(try takeOver.start(), "nodeaudit run --take-over did not start: \(takeOver.stderr)")
            #expect(!auditd.isRunning)
            #expect(try KernelAudit.status()["pid"] == String(takeOver.process.processIdentifier))
            #expect(takeOver.stop() == 0)
            #expect(try KernelAudit.status()["pid"] == "0")
            auditd.stop()

            let logged = try NodeAuditBinary.run("parse", auditd.logFile.path)
            #expect(logged.status == 0, "\(logged.stderr)")
            func identities(_ events: [[String: Any]]) -> Set<String> {
                Set(Self.execEvents(events, marker: marker).map { "\($0["id"] ?? "") \(Self.argv($0))" })
            }
            let byAuditd = identities(try Command.jsonLines(logged.stdout))
            let byNodeaudit = identities(try run.events())
            #expect(byAuditd.count == 50)
            #expect(byNodeaudit == byAuditd)
        }
    }
}

/// auditd with its own configuration and log in a temporary directory, in the foreground
/// (`-n`) so that this test knows its pid and ends exactly that process.
final class ReferenceAuditd {
    let directory: URL
    let logFile: URL
    private let process = Process()
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-auditd-\(UUID().uuidString)")
        let plugins = directory.appendingPathComponent("plugins.d")
        try FileManager.default.createDirectory(at: plugins, withIntermediateDirectories: true)
        logFile = directory.appendingPathComponent("audit.log")
        let configuration = """
            local_events = yes
            write_logs = yes
            log_file = \(logFile.path)
            log_format = RAW
            flush = INCREMENTAL_ASYNC
            freq = 50
            max_log_file = 100
            max_log_file_action = IGNORE
            space_left = 10
            space_left_action = IGNORE
            admin_space_left = 5
            admin_space_left_action = IGNORE
            disk_full_action = IGNORE
            disk_error_action = IGNORE
            plugin_dir = \(plugins.path)
            q_depth = 20000
            overflow_action = IGNORE

            """
        try configuration.write(to: directory.appendingPathComponent("auditd.conf"), atomically: true, encoding: .utf8)
        process.executableURL = URL(fileURLWithPath: try ReferenceTools.path("auditd", package: "auditd"))
        process.arguments = ["-n", "-s", "nochange", "-c", directory.path]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runWithStopSignalsUnblocked()
    }

    /// Waits until the kernel names this auditd as its audit daemon.
    func waitUntilRegistered() throws -> Bool {
        try Wait.until { try KernelAudit.status()["pid"] == String(pid) || !process.isRunning }
            && KernelAudit.status()["pid"] == String(pid)
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }
}
