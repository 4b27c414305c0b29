import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// `nodeaudit run --cleanup` (what `Scripts/run` starts) is a trial: when it stops, the
    /// kernel's rules and settings are exactly what they were before, whoever set them.
    @Suite("A trial run leaves the kernel as it found it", .serialized)
    struct TrialRunKernelTests {
        typealias Live = LiveKernelTests

        /// The settings a rule file can change, as `auditctl -s` prints them.
        static let settings = ["enabled", "failure", "rate_limit", "backlog_limit", "backlog_wait_time"]

        @Test("foreign rules, a rule also in Rules/ and odd settings: after run --cleanup and SIGINT, auditctl -l and -s are as before")
        func trialRestoresEverything() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let marker = Live.marker()
            // Another tool's state: its own watch, one of nodeaudit's default rules, and
            // settings unlike the ones Rules/ sets (-b 16384 --backlog_wait_time 0 -f 1 -e 1).
            let shared = "-a always,exit -F arch=b64 -S execve,execveat -F key=exec"
            for arguments in [["-D"], ["-w", "/tmp/\(marker)", "-p", "wa", "-k", marker], shared.split(separator: " ").map(String.init),
                              ["-b", "1234"], ["--backlog_wait_time", "1000"], ["-f", "0"], ["-e", "0"]] {
                let result = try KernelAudit.auditctl(arguments)
                try #require(result.status == 0, "auditctl \(arguments): \(result.stderr)")
            }
            let rulesBefore = try KernelAudit.listing()
            let statusBefore = try KernelAudit.status().filter { Self.settings.contains($0.key) }
            try #require(rulesBefore.contains("-a always,exit -F arch=b64 -S execve,execveat -F key=exec"), "\(rulesBefore)")

            let state = try Fixtures.temporaryDirectory("trial-state")
            defer { try? FileManager.default.removeItem(at: state) }
            let record = state.appendingPathComponent("owned-rules").path
            let run = try LiveRun(["--cleanup", "--stats-interval", "0", "--state-directory", state.path])
            try #require(try run.start(), "nodeaudit run did not start: \(run.stderr)")
            #expect(try KernelAudit.listing().count > rulesBefore.count + 10, "the default rules were not loaded")
            #expect(try KernelAudit.status()["backlog_limit"] == "16384")
            #expect(FileManager.default.fileExists(atPath: record), "while it runs, the trial knows what it loaded")
            #expect(run.stop(signal: SIGINT) == 0, "\(run.stderr)")
            #expect(!FileManager.default.fileExists(atPath: record), "the trial put the kernel back, and its record with it")

            #expect(try KernelAudit.listing() == rulesBefore)
            #expect(try KernelAudit.status().filter { Self.settings.contains($0.key) } == statusBefore)
            #expect(try KernelAudit.status()["pid"] == "0")
        }
    }
}
