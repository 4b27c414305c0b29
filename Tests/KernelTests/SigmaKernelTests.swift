import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// Sigma rules in a live run: matches on the node's real events, and rule files that
    /// change under a running collector.
    @Suite("Sigma rules on the real kernel", .serialized)
    struct SigmaKernelTests {
        typealias Live = LiveKernelTests

        static func rule(_ title: String, marker: String) -> String {
            """
            title: \(title)
            id: \(UUID().uuidString.lowercased())
            level: high
            logsource: {product: linux, category: process_creation}
            detection:
                sel:
                    CommandLine|contains: '\(marker)'
                condition: sel
            """
        }

        /// The titles of the detections of the marker's exec events.
        static func titles(_ run: LiveRun, _ marker: String) throws -> [String] {
            Live.execEvents(try run.events(), marker: marker).flatMap { event in
                ((event["detections"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
            }
        }

        @Test("a rule matches a real exec; a rule file added while running is in force within 5 s; a broken one keeps the rules in force and says why")
        func liveAndReload() throws {
            let directory = try Fixtures.temporaryDirectory("sigma")
            defer { try? FileManager.default.removeItem(at: directory) }
            let (first, added) = (Live.marker(), Live.marker())
            try Self.rule("first marker", marker: first).write(to: directory.appendingPathComponent("first.yml"), atomically: true, encoding: .utf8)
            let run = try Live.withLiveRun(["--sigma", directory.path]) { run in
                _ = try Command.run("/bin/true", [first])
                try #require(try run.barrier(), "the events did not reach the output")
                #expect(try Self.titles(run, first) == ["first marker"])

                try Self.rule("added marker", marker: added).write(to: directory.appendingPathComponent("added.yml"), atomically: true, encoding: .utf8)
                // No signal: the files are watched. Each try runs the exec again until the rule is in force.
                let inForce = try Wait.until(seconds: 5) {
                    _ = try Command.run("/bin/true", [added])
                    _ = try run.barrier()
                    return try Self.titles(run, added).contains("added marker")
                }
                #expect(inForce, "the added rule was not in force within 5 s: \(run.stderr.suffix(400))")

                let broken = Self.rule("broken", marker: first).replacingOccurrences(of: "CommandLine|contains", with: "CommandLine|utf16le")
                try broken.write(to: directory.appendingPathComponent("broken.yml"), atomically: true, encoding: .utf8)
                let refused = Wait.until { run.stderr.contains("new problems; the 2 rules in force stay") }
                #expect(refused, "\(run.stderr.suffix(400))")
                #expect(run.stderr.contains("broken.yml:7:9: the modifier `|utf16le` is not supported"), "the refusal names the file, line and construct")
                let before = try Self.titles(run, first).count
                _ = try Command.run("/bin/true", [first])
                try #require(try run.barrier())
                #expect(try Self.titles(run, first).count == before + 1, "the rules in force still match")
            }
            #expect(run.stderr.contains("sigma: 1 rules loaded, 0 refused"))
            #expect((run.finalCounter("detections") ?? 0) >= 3, "\(run.stderr.suffix(300))")
        }
    }
}
