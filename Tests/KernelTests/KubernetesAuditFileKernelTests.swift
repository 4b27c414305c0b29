import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// `nodeaudit run --k8s-audit-file`: the API server's log followed as the API server
    /// writes and rotates it (renamed aside with a timestamp, a new file opened), across
    /// restarts of nodeaudit.
    @Suite("API server audit log, followed live", .serialized)
    struct KubernetesAuditFileKernelTests {
        typealias Live = LiveKernelTests

        /// An API server's log directory, written by the test as kube-apiserver writes it.
        final class APIServerLog {
            let directory: URL
            var path: String { directory.appendingPathComponent("audit.log").path }
            private var rotations = 0

            init() throws {
                directory = try Fixtures.temporaryDirectory("apiserver-log")
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }

            deinit { try? FileManager.default.removeItem(at: directory) }

            /// Appends the events numbered `range`, one line each (`ResponseComplete` of a get).
            func write(_ range: Range<Int>, tag: String) throws {
                try append(range.map { Self.line($0, tag: tag) }.joined())
            }

            static func line(_ n: Int, tag: String) -> String {
                #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"\#(tag)-\#(n)","stage":"ResponseComplete","requestURI":"/api/v1/namespaces/default/configmaps/c\#(n)","verb":"get","user":{"username":"u"},"sourceIPs":["10.0.0.1"],"responseStatus":{"metadata":{},"code":200},"requestReceivedTimestamp":"2026-12-06T10:00:00.000000Z","stageTimestamp":"2026-12-06T10:00:00.001000Z"}"# + "\n"
            }

            /// Appends `text` in one write, as the API server writes a line.
            func append(_ text: String) throws {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
                defer { try? handle.close() }
                try handle.seekToEnd()
                try handle.write(contentsOf: Data(text.utf8))
            }

            /// The API server's rotation: the file renamed aside with a timestamp, a new one opened.
            func rotate() throws {
                rotations += 1
                let aside = directory.appendingPathComponent("audit-2026-12-06T10-00-0\(rotations).000.log")
                try FileManager.default.moveItem(atPath: path, toPath: aside.path)
                _ = FileManager.default.createFile(atPath: path, contents: nil)
            }
        }

        /// The auditIDs of the k8s_api events a run wrote.
        static func auditIDs(_ run: LiveRun, tag: String) throws -> [String] {
            try run.events().compactMap { ($0["k8s_api"] as? [String: Any])?["audit_id"] as? String }.filter { $0.hasPrefix(tag + "-") }
        }

        /// For runs one after the other: the kernel's audit state to restore, a tag, an API
        /// server's log, and a state directory the runs share.
        static func restartSetting() throws -> (KernelAudit.Snapshot, String, APIServerLog, URL) {
            (try KernelAudit.Snapshot.take(), String(Live.marker().suffix(8)), try APIServerLog(), try Fixtures.temporaryDirectory("k8s-state"))
        }

        static func start(_ log: APIServerLog, state: URL) throws -> LiveRun {
            let run = try LiveRun(Live.liveArguments + ["--k8s-audit-file", log.path, "--state-directory", state.path, "--no-containers"])
            try #require(try run.start { run.stderr.contains("following the API server's audit log") }, "\(run.stderr)")
            return run
        }

        @Test("a restart in the middle of a rotated log, and another rotation while nodeaudit is stopped: every event once")
        func restartAcrossRotations() throws {
            let (snapshot, tag, log, state) = try Self.restartSetting()
            defer {
                #expect(throws: Never.self) { try snapshot.restore() }
                try? FileManager.default.removeItem(at: state)
            }

            let first = try Self.start(log, state: state)
            try log.write(0..<40, tag: tag)
            try log.rotate()
            try log.write(40..<60, tag: tag)
            #expect(Wait.until(seconds: 30) { ((try? Self.auditIDs(first, tag: tag).count) ?? 0) >= 60 }, "\(first.stderr)")
            try log.write(60..<70, tag: tag)  // written while nodeaudit stops: read by this run or the next
            #expect(first.stop() == 0, "\(first.stderr)")
            try log.write(70..<80, tag: tag)
            try log.rotate()
            try log.write(80..<100, tag: tag)

            let second = try Self.start(log, state: state)
            try log.write(100..<120, tag: tag)
            #expect(Wait.until(seconds: 30) { ((try? Self.auditIDs(second, tag: tag).count) ?? 0) + ((try? Self.auditIDs(first, tag: tag).count) ?? 0) >= 120 },
                    "\(second.stderr)")
            #expect(second.stop() == 0, "\(second.stderr)")
            let all = try Self.auditIDs(first, tag: tag) + Self.auditIDs(second, tag: tag)
            let counted = Dictionary(all.map { ($0, 1) }, uniquingKeysWith: +)
            let expected = Set((0..<120).map { "\(tag)-\($0)" })
            #expect(Set(counted.keys) == expected, "missing: \(expected.subtracting(counted.keys).sorted().prefix(10))")
            #expect(counted.values.allSatisfy { $0 == 1 }, "repeated: \(counted.filter { $0.value > 1 }.keys.sorted().prefix(10))")
            #expect(second.stderr.contains("was rotated since the last run"), "\(second.stderr)")
        }

        @Test("SIGKILL while the log is written: after the restart no event is missing")
        func killed() throws {
            let (snapshot, tag, log, state) = try Self.restartSetting()
            defer {
                #expect(throws: Never.self) { try snapshot.restore() }
                try? FileManager.default.removeItem(at: state)
            }

            let first = try Self.start(log, state: state)
            try log.write(0..<500, tag: tag)
            _ = Wait.until(seconds: 30) { ((try? Self.auditIDs(first, tag: tag).count) ?? 0) >= 100 }
            _ = first.stop(signal: SIGKILL)
            try snapshot.restore()
            try log.write(500..<600, tag: tag)
            let position = (try? String(contentsOf: state.appendingPathComponent("k8s-audit-position"), encoding: .utf8)) ?? "none"
            let readBefore = Set((try? Self.auditIDs(first, tag: tag)) ?? [])
            let second = try Self.start(log, state: state)
            _ = Wait.until(seconds: 30) { readBefore.union((try? Self.auditIDs(second, tag: tag)) ?? []).count >= 600 }
            #expect(second.stop() == 0, "\(second.stderr)")
            let missing = Set((0..<600).map { "\(tag)-\($0)" }).subtracting(readBefore.union(try Self.auditIDs(second, tag: tag)))
            #expect(missing.isEmpty, "\(missing.count) missing, e.g. \(missing.sorted().prefix(5)); the first run wrote \(readBefore.count), the position was \(position); \(second.stderr)")
        }

        @Test("copy-truncate, a partial last line, a malformed line and a vanished file: each said and counted, the stream goes on")
        func badFiles() throws {
            let tag = String(Live.marker().suffix(8))
            let log = try APIServerLog()
            let run = try Live.withLiveRun(["--k8s-audit-file", log.path, "--no-containers"]) { live in
                try #require(Wait.until(seconds: 20) { live.stderr.contains("following the API server's audit log") })
                // A line written in two parts: its first part comes in the same write as five
                // whole lines, so once they are out the follower holds it, waiting for its end.
                let split = #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","auditID":"\#(tag)-split","stage":"ResponseComplete","verb":"get","user":{"username":"u"}}"#
                try log.append((0..<5).map { APIServerLog.line($0, tag: tag) }.joined() + split.prefix(40))
                #expect(Wait.until(seconds: 20) { ((try? Self.auditIDs(live, tag: tag).count) ?? 0) >= 5 })
                try log.append(split.dropFirst(40) + "\nnot json\n")
                #expect(Wait.until(seconds: 20) { ((try? Self.auditIDs(live, tag: tag).count) ?? 0) >= 6 })
                // copy-truncate: the file emptied in place, then written from its start with
                // less than it held (so the follower sees it shrink whenever it looks).
                try FileHandle(forWritingTo: URL(fileURLWithPath: log.path)).truncate(atOffset: 0)
                try log.write(5..<8, tag: tag)
                #expect(Wait.until(seconds: 20) { ((try? Self.auditIDs(live, tag: tag).count) ?? 0) >= 9 })
                // Gone, then back (a new file: the follower moves to it whenever it looks).
                try FileManager.default.removeItem(atPath: log.path)
                _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                try log.write(8..<10, tag: tag)
                #expect(Wait.until(seconds: 20) { ((try? Self.auditIDs(live, tag: tag).count) ?? 0) >= 11 })
                try #require(try live.barrier(), "the node's events did not reach the output")
            }
            let ids = try Self.auditIDs(run, tag: tag)
            #expect(Set(ids) == Set((0..<10).map { "\(tag)-\($0)" } + ["\(tag)-split"]) && ids.count == 11, "\(ids)")
            #expect(run.stderr.contains("not JSON"), "\(run.stderr)")
            #expect(run.stderr.contains("was truncated"), "\(run.stderr)")
            #expect(run.finalCounter("k8s_rejected") == 1 && run.finalCounter("k8s_events") == 11, "\(run.stderr.suffix(600))")
            #expect(run.finalCounter("k8s_file_truncations") == 1 && (run.finalCounter("k8s_file_rotations") ?? 0) >= 1, "\(run.stderr.suffix(600))")
        }
    }
}
