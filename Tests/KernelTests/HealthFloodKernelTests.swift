import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// The health port is on the node's network in a DaemonSet, so every pod can reach it:
    /// idle and slow clients must not stall the liveness probe, or the probe becomes an
    /// off switch for the monitor.
    @Suite("Health endpoint under idle and slow clients", .serialized)
    struct HealthFloodKernelTests {
        typealias Live = LiveKernelTests

        /// Holds `idle` connections that send nothing and `slow` ones that send a request
        /// one byte a second (each opened again when the server closes it), while a poller
        /// asks /healthz ten times a second for `seconds`. Prints one JSON object.
        static let flood = """
            import asyncio, json, resource, socket, sys, threading, time
            port, idle, slow, seconds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
            resource.setrlimit(resource.RLIMIT_NOFILE, (16384, 16384))
            held = {"idle": 0, "slow": 0, "reopened": 0}
            all_connected = threading.Event()
            async def hold(kind):
                request = b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"
                while True:  # until cancelled, when the poller is done
                    try:
                        reader, writer = await asyncio.open_connection("127.0.0.1", port)
                    except OSError:
                        await asyncio.sleep(0.2); continue
                    held[kind] += 1
                    if held["idle"] + held["slow"] >= idle + slow: all_connected.set()
                    try:
                        for byte in (request if kind == "slow" else b""):
                            writer.write(bytes([byte])); await writer.drain(); await asyncio.sleep(1)
                        await reader.read(1 << 16)
                    except OSError:
                        pass
                    held[kind] -= 1; held["reopened"] += 1
                    writer.close()
                    await asyncio.sleep(0.5)
            polls = []
            def poll():
                # The attackers connect first (all of them, or as many as 30 s allow).
                all_connected.wait(30)
                end = time.monotonic() + seconds
                while time.monotonic() < end:
                    started = time.monotonic()
                    try:
                        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
                            s.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: probe\\r\\n\\r\\n")
                            answer = b""
                            while b"\\r\\n\\r\\n" not in answer:
                                chunk = s.recv(4096)
                                if not chunk: break
                                answer += chunk
                        polls.append((answer.split(b" ")[1].decode() if answer.startswith(b"HTTP/1.1 ") else "none", (time.monotonic() - started) * 1000, dict(held)))
                    except OSError as error:
                        polls.append((type(error).__name__, (time.monotonic() - started) * 1000, dict(held)))
                    time.sleep(max(0, 0.1 - (time.monotonic() - started)))
            async def main():
                tasks = [asyncio.create_task(hold("idle")) for _ in range(idle)] + [asyncio.create_task(hold("slow")) for _ in range(slow)]
                poller = threading.Thread(target=poll); poller.start()
                await asyncio.get_running_loop().run_in_executor(None, poller.join)
                for task in tasks: task.cancel()
            asyncio.run(main())
            latencies = sorted(p[1] for p in polls)
            print(json.dumps({"polls": len(polls), "ok": sum(1 for p in polls if p[0] == "200"),
                              "failures": [p for p in polls if p[0] != "200"][:5],
                              "max_ms": latencies[-1] if latencies else None,
                              "p99_ms": latencies[int(len(latencies) * 0.99) - 1] if latencies else None,
                              "held_at_end": polls[-1][2] if polls else None}))
            """

        static func residentKilobytes(_ pid: Int32) -> Int? {
            guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
            return line?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
        }

        @Test("1,000 idle and 1,000 slowloris connections: every /healthz poll (10/s) is answered 200; memory stays under 64 MB; SIGTERM ends it")
        func idleAndSlowClients() throws {
            let port = LoopbackPort.free()
            var result: [String: Any] = [:]
            var peakKilobytes: Int?
            let run = try Live.withLiveRun(["--listen", "127.0.0.1:\(port)"]) { run in
                let flood = try Command.run("/usr/bin/python3", ["-c", Self.flood, String(port), "1000", "1000", "10"])
                try #require(flood.status == 0, "\(flood.stderr)")
                result = try #require(try JSONSerialization.jsonObject(with: flood.stdout) as? [String: Any], "\(flood.stdoutText)")
                peakKilobytes = Self.residentKilobytes(run.process.processIdentifier)
                let stopped = Date()
                kill(run.process.processIdentifier, SIGTERM)
                _ = Wait.until(seconds: 30) { !run.process.isRunning }
                print("health flood: \(result); peak RSS \(peakKilobytes ?? -1) kB; SIGTERM to exit \(Int(Date().timeIntervalSince(stopped) * 1000)) ms")
            }
            let polls = try #require(result["polls"] as? Int)
            #expect(polls >= 50, "the poller barely ran: \(result)")
            #expect(result["ok"] as? Int == polls, "a probe was not answered: \(result)")
            let held = result["held_at_end"] as? [String: Int] ?? [:]
            #expect((held["idle"] ?? 0) + (held["slow"] ?? 0) > 0, "the attackers held no connection: \(result)")
            #expect((peakKilobytes ?? .max) < 64 * 1024, "peak RSS \(peakKilobytes ?? -1) kB")
            #expect(run.stderr.contains("nodeaudit: final: "), "it did not stop cleanly: \(run.stderr.suffix(300))")
        }

        @Test("garbage, an oversized request and a bare request line get 400 or 431 and are closed; /healthz still answers")
        func garbage() throws {
            let port = LoopbackPort.free()
            let script = """
                import socket, sys
                port = int(sys.argv[1])
                def ask(data):
                    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                        s.sendall(data)
                        answer = b""
                        while True:
                            chunk = s.recv(65536)
                            if not chunk: break
                            answer += chunk
                    return answer.split(b"\\r\\n")[0].decode(errors="replace")
                print(ask(b"\\x16\\x03\\x01\\x02\\x00garbage"))
                print(ask(b"GET /" + b"a" * 10000 + b" HTTP/1.1\\r\\n"))
                print(ask(b"GET /healthz\\r\\n\\r\\n"))
                print(ask(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
                """
            _ = try Live.withLiveRun(["--listen", "127.0.0.1:\(port)"]) { _ in
                let answers = try Command.run("/usr/bin/python3", ["-c", script, String(port)])
                try #require(answers.status == 0, "\(answers.stderr)")
                #expect(answers.stdoutText.split(separator: "\n") == [
                    "HTTP/1.1 400 Bad Request", "HTTP/1.1 431 Request Header Fields Too Large",
                    "HTTP/1.1 400 Bad Request", "HTTP/1.1 200 OK",
                ], "\(answers.stdoutText)")
            }
        }
    }
}
