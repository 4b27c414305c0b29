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
            let run = try Live.withLiveRun(["--output-queue-mb", "1"], stdout: pipe) { run in
                // Nobody reads the pipe during the burst: its 64 KiB and the 1 MiB queue fill up.
                let burst = try Command.run(Self.execBurst, [String(count), marker])
                try #require(burst.status == 0, "\(burst.stderr)")
                Live.settle()
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
            let after = Live.marker()
            let run = try Live.withLiveRun(["--multicast", "--receive-buffer", "65536"]) { run in
                // A stopped reader with a 64 KiB buffer cannot keep up with 2,000 execs.
                kill(run.process.processIdentifier, SIGSTOP)
                let burst = try Command.run(Self.execBurst, ["2000", marker])
                kill(run.process.processIdentifier, SIGCONT)
                try #require(burst.status == 0, "\(burst.stderr)")
                Live.settle()
                #expect(run.process.isRunning, "nodeaudit ended after the overflow: \(run.stderr)")
                _ = try Live.spawn("/bin/echo", [after])
                Live.settle()
            }
            #expect((run.finalCounter("overflows") ?? 0) > 0, "no overflow was counted: \(run.stderr)")
            #expect(Live.execEvents(try run.events(), marker: after).count == 1, "nothing was read after the overflow")
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
            let run = try Live.withLiveRun { _ in
                let spawn = try Command.run("/usr/bin/python3", ["-c", script, marker])
                try #require(spawn.status == 0, "\(spawn.stderr)")
                Live.settle()
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
