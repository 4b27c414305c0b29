import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// Overload and hostile input on the real kernel: nodeaudit stays up, keeps reading,
    /// says what it dropped, and writes one JSON object per line whatever the argv holds.
    @Suite("Faults and hostile input on the real kernel", .serialized)
    struct FaultKernelTests {
        typealias Live = LiveKernelTests

        static var execBurst: String { Fixtures.repositoryRoot.appendingPathComponent("Scripts/exec-burst").path }

        @Test("a stdout nobody reads does not stop the reader: no kernel loss, and every event is written or counted as dropped")
        func stalledOutput() throws {
            let marker = Live.marker()
            let count = 3000
            let pipe = Pipe()
            nonisolated(unsafe) var output = Data()
            let reader = DispatchGroup()
            let witness = FileManager.default.temporaryDirectory.appendingPathComponent("\(marker).jsonl")
            defer { try? FileManager.default.removeItem(at: witness) }
            let run = try Live.withLiveRun(["--output-queue-mb", "1", "--file", witness.path], stdout: pipe) { run in
                // Nobody reads the pipe during the burst: its 64 KiB and the 1 MiB queue fill up.
                let burst = try Command.run(Self.execBurst, [String(count), marker])
                try #require(burst.status == 0, "\(burst.stderr)")
                // The file output is not stalled: once the barrier is there, every event was read.
                try #require(try run.barrier(in: witness), "the events did not reach the file output")
                #expect(run.process.isRunning)
                reader.enter()
                DispatchQueue.global().async {
                    output = pipe.fileHandleForReading.readDataToEndOfFile()
                    reader.leave()
                }
            }
            try pipe.fileHandleForWriting.close()
            reader.wait()
            let lines = try Command.jsonLines(output)
            #expect(run.finalCounter("kernel_lost") == 0, "\(run.stderr)")
            #expect(run.finalCounter("overflows") == 0)
            #expect(run.finalCounter("missing_serials") == 0)
            let dropped = try #require(run.finalCounter("output_dropped"))
            #expect(dropped > 0, "the output never stalled: \(run.stderr)")
            #expect(lines.count + dropped == run.finalCounter("events"), "written \(lines.count) + dropped \(dropped); \(run.stderr)")
        }

        @Test("a receive-buffer overflow (ENOBUFS) on the multicast socket is counted and survived")
        func receiveBufferOverflow() throws {
            let marker = Live.marker()
            let run = try Live.withLiveRun(["--multicast", "--receive-buffer", "65536"]) { run in
                // A stopped reader with a 64 KiB buffer cannot keep up with 2,000 execs.
                kill(run.process.processIdentifier, SIGSTOP)
                let burst = try Command.run(Self.execBurst, ["2000", marker])
                kill(run.process.processIdentifier, SIGCONT)
                try #require(burst.status == 0, "\(burst.stderr)")
                #expect(run.process.isRunning, "nodeaudit ended after the overflow: \(run.stderr)")
                // An exec after the overflow reaches the output: reading went on. (The
                // barrier execs again while the buffer still overflows.)
                try #require(try run.barrier(), "nothing was read after the overflow")
            }
            #expect((run.finalCounter("overflows") ?? 0) > 0, "no overflow was counted: \(run.stderr)")
        }

        @Test("argv with quotes, newlines, terminal escapes, invalid UTF-8 and JSON text: one event, one line, decoded exactly")
        func hostileArgv() throws {
            let marker = Live.marker()
            // Bytes that Swift strings cannot carry (invalid UTF-8): exec'd from python.
            let script = """
                import os, sys
                m = sys.argv[1].encode()
                args = [b"/bin/echo", m, b'say "hi"', b"two\\nlines", b"\\x1b[31mred\\x1b[0m", b"bad\\xff\\xfeutf8",
                        b'{"injected": true}\\n{"second": 1}', b"tab\\tand\\\\backslash", b"\\x7f\\x01"]
                pid = os.posix_spawn("/bin/echo", args, {})
                os.waitpid(pid, 0)
                """
            let run = try Live.withLiveRun { live in
                let spawn = try Command.run("/usr/bin/python3", ["-c", script, marker])
                try #require(spawn.status == 0, "\(spawn.stderr)")
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let raw = try Data(contentsOf: run.stdoutFile)
            #expect(!raw.contains(0x1b), "a raw escape byte reached the output")
            let lines = raw.split(separator: UInt8(ascii: "\n"))
            let events = try Command.jsonLines(raw)
            #expect(events.count == lines.count, "a line is not exactly one JSON object")
            let execs = Live.execEvents(events, marker: marker).filter { Live.argv($0).first == "/bin/echo" }
            try #require(execs.count == 1)
            #expect(Live.argv(execs[0]) == [
                "/bin/echo", marker, #"say "hi""#, "two\nlines", "\u{1b}[31mred\u{1b}[0m", "bad\u{fffd}\u{fffd}utf8",
                "{\"injected\": true}\n{\"second\": 1}", "tab\tand\\backslash", "\u{7f}\u{01}",
            ])
            #expect(!events.contains { $0["injected"] != nil || $0["second"] != nil })
        }
    }
}

extension KernelSuite {
    /// Drift repair on the real kernel: what an administrator (or an attacker) removes
    /// while nodeaudit runs is put back within the check interval and reported.
    @Suite("Rule drift repair on the real kernel", .serialized)
    struct DriftKernelTests {
        typealias Live = LiveKernelTests

        @Test("auditctl -D and -e 0 while running: the rules and the enabled flag are back within the interval, and a drift event names auditctl")
        func deleteAllIsRepaired() throws {
            var expected: Set<String> = []
            var restored = false
            // Other tools' rules are not nodeaudit's to restore.
            let foreign = Set(try KernelAudit.listing())
            let run = try Live.withLiveRun(["--drift-interval", "3"]) { live in
                // What nodeaudit loaded: Rules/ and its own exclusion rule.
                expected = Set(try KernelAudit.listing()).subtracting(foreign)
                try #require(expected.count > 10)
                let delete = try KernelAudit.auditctl("-D")
                try #require(delete.status == 0, "\(delete.stderr)")
                // Seen at once: drift repair (every 3 s here) puts them back before long.
                #expect(try KernelAudit.listing().count < expected.count)
                _ = try KernelAudit.auditctl("-e", "0")
                restored = try Wait.until(seconds: 60) {
                    try Set(KernelAudit.listing()).isSuperset(of: expected) && KernelAudit.status()["enabled"] == "1"
                }
                try #require(try live.barrier(), "the events did not reach the output")
            }
            try #require(restored, "the rules were not restored; \(run.stderr)")
            let drift = try run.events().filter { $0["type"] as? String == "nodeaudit_drift" }
            try #require(!drift.isEmpty, "no drift event; stderr: \(run.stderr)")
            let restoredRules = drift.flatMap { ($0["drift"] as? [String: Any])?["restored_rules"] as? [String] ?? [] }
            #expect(Set(restoredRules).isSuperset(of: expected))
            let settings = drift.flatMap { ($0["drift"] as? [String: Any])?["restored_settings"] as? [[String: Any]] ?? [] }
            #expect(settings.contains { $0["name"] as? String == "enabled" && $0["found"] as? Int == 0 && $0["restored"] as? Int == 1 })
            let changers = drift.flatMap { $0["changed_by"] as? [[String: Any]] ?? [] }
            #expect(changers.contains { $0["exe"] as? String == "/usr/sbin/auditctl" && $0["op"] as? String == "remove_rule" },
                    "\(changers.prefix(3))")
            #expect((run.finalCounter("drift_repairs") ?? 0) >= 1)
        }
    }
}

extension KernelSuite {
    /// The health and metrics endpoint the DaemonSet's probes and Prometheus use.
    @Suite("Health and metrics endpoint on the real kernel", .serialized)
    struct HealthKernelTests {
        typealias Live = LiveKernelTests

        static func get(_ url: String) throws -> (status: Int, body: String) {
            let result = try Command.run("/usr/bin/curl", ["-s", "-o", "-", "-w", "\n%{http_code}", "--max-time", "5", url])
            let text = result.stdoutText
            let split = text.lastIndex(of: "\n") ?? text.endIndex
            return (Int(text[text.index(after: split)...].trimmingCharacters(in: .whitespaces)) ?? 0, String(text[..<split]))
        }

        @Test("/healthz answers 200 while reading; /metrics passes promtool check metrics and counts the events")
        func healthAndMetrics() throws {
            let port = LoopbackPort.free()
            let marker = Live.marker()
            var metrics = ""
            _ = try Live.withLiveRun(["--listen", "127.0.0.1:\(port)"]) { run in
                #expect(run.stderr.contains("serving /healthz and /metrics on 127.0.0.1:\(port)"), "\(run.stderr)")
                let health = try Self.get("http://127.0.0.1:\(port)/healthz")
                #expect(health.status == 200 && health.body == "ok\n")
                _ = try Live.spawn("/bin/echo", [marker])
                // The counters are published once a second: wait until they count an event.
                var answer = (status: 0, body: "")
                let counted = try Wait.until {
                    answer = try Self.get("http://127.0.0.1:\(port)/metrics")
                    return answer.body.split(separator: "\n").contains { $0.hasPrefix("nodeaudit_events_total ") && !$0.hasSuffix(" 0") }
                }
                #expect(counted, "no event was counted: \(answer.body)")
                #expect(answer.status == 200)
                metrics = answer.body
                #expect(try Self.get("http://127.0.0.1:\(port)/elsewhere").status == 404)
            }
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("\(marker).prom")
            defer { try? FileManager.default.removeItem(at: file) }
            try metrics.write(to: file, atomically: true, encoding: .utf8)
            let promtool = try ReferenceTools.path("promtool", package: "prometheus")
            let check = try Command.run(promtool, ["check", "metrics"], stdinFile: file.path)
            #expect(check.status == 0, "promtool: \(check.stdoutText) \(check.stderr)\n\(metrics)")
            let events = metrics.split(separator: "\n").first { $0.hasPrefix("nodeaudit_events_total ") }
            #expect((events?.split(separator: " ").last.flatMap { Int($0) } ?? 0) >= 1, "\(metrics)")
            #expect(metrics.contains("nodeaudit_kernel_lost_total 0"))
            // The node's processes are known (read from /proc at start), each table with its bound.
            func value(_ series: String) -> Int? {
                metrics.split(separator: "\n").first { $0.hasPrefix(series + " ") }?.split(separator: " ").last.flatMap { Int($0) }
            }
            #expect((value(#"nodeaudit_table_entries{table="processes"}"#) ?? 0) > 0, "\(metrics)")
            let capacity = value(#"nodeaudit_table_capacity{table="processes"}"#) ?? 0
            #expect(capacity > 0 && (value(#"nodeaudit_table_entries{table="processes"}"#) ?? .max) <= capacity)
            #expect(value(#"nodeaudit_table_capacity{table="login_sessions"}"#) != nil, "\(metrics)")
        }
    }
}

extension KernelSuite {
    @Suite("File output on the real kernel", .serialized)
    struct FileOutputKernelTests {
        typealias Live = LiveKernelTests

        @Test("--file rotates at output.file_max_mb and keeps output.file_generations; every line is an event")
        func rotatedFile() throws {
            let marker = Live.marker()
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(marker)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let path = directory.appendingPathComponent("events.jsonl").path
            let config = directory.appendingPathComponent("nodeaudit.yaml")
            try "output:\n  file_max_mb: 1\n  file_generations: 2\n".write(to: config, atomically: true, encoding: .utf8)
            let run = try Live.withLiveRun(["--config", config.path, "--no-stdout", "--file", path]) { live in
                // About 1.4 KB per exec event: 4,000 fill several 1 MiB files.
                let burst = try Command.run(FaultKernelTests.execBurst, ["4000", marker])
                try #require(burst.status == 0, "\(burst.stderr)")
                try #require(try live.barrier(in: URL(fileURLWithPath: path)), "the events did not reach the file")
            }
            #expect(try Data(contentsOf: run.stdoutFile).isEmpty, "--no-stdout wrote to stdout")
            let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasPrefix("events.jsonl") }.sorted()
            #expect(files == ["events.jsonl", "events.jsonl.1", "events.jsonl.2"])
            var numbers: [Int] = []
            for name in ["events.jsonl.2", "events.jsonl.1", "events.jsonl"] {
                let data = try Data(contentsOf: directory.appendingPathComponent(name))
                #expect(data.count <= 1 << 20, "\(name): \(data.count) bytes")
                numbers += Live.execEvents(try Command.jsonLines(data), marker: marker).compactMap { Live.argv($0).last.flatMap { Int($0) } }
            }
            // The kept files hold the newest events (in completion order, which is nearly
            // exec order), each once, up to the last exec; the oldest went with the files
            // rotated away. How many execs 3 MiB hold depends on what else the node logged
            // meanwhile (each exec's fork, other processes), so the files are held to bytes:
            // each older one was filled to within one event of the bound.
            #expect(numbers.count == Set(numbers).count)
            #expect(numbers.max() == 3999)
            #expect(numbers.count < 4000, "the oldest events were not rotated away")
            #expect(Set(3500..<4000).isSubset(of: Set(numbers)), "the newest 500 are not all kept")
            for name in ["events.jsonl.2", "events.jsonl.1"] {
                let size = try Data(contentsOf: directory.appendingPathComponent(name)).count
                #expect(size > (1 << 20) - (64 << 10), "\(name) was rotated at \(size) bytes, short of the 1 MiB bound")
            }
        }
    }
}
