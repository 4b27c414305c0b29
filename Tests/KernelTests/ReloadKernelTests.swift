import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// What operators send a running collector: SIGHUP after changing its files (rules,
    /// configuration, the host's accounts, a rotated output file), SIGUSR1 for counters.
    @Suite("Reload and signals on the real kernel", .serialized)
    struct ReloadKernelTests {
        typealias Live = LiveKernelTests

        static func temporaryDirectory() throws -> URL {
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-reload-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return directory
        }

        @Test("SIGHUP loads an added rule file; a broken one keeps the loaded rules and says why")
        func rulesReload() throws {
            let directory = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let rules = directory.appendingPathComponent("rules")
            try FileManager.default.copyItem(at: Fixtures.repositoryRoot.appendingPathComponent("Rules"), to: rules)
            let marker = Live.marker()
            let watch = "-w /tmp/\(marker) -p wa -k \(marker)"
            _ = try Live.withLiveRun(["--rules", rules.path]) { run in
                #expect(try !KernelAudit.listing().contains(watch))
                try "\(watch)\n".write(to: rules.appendingPathComponent("95-added.rules"), atomically: true, encoding: .utf8)
                kill(run.process.processIdentifier, SIGHUP)
                let loaded = try Wait.until { try KernelAudit.listing().contains(watch) }
                #expect(loaded, "the added rule was not loaded: \(run.stderr.suffix(400))")

                let before = try KernelAudit.listing()
                try "-a always,exit -F arch=b64 -S nosuchcall -k \(marker)\n".write(to: rules.appendingPathComponent("96-broken.rules"),
                                                                                   atomically: true, encoding: .utf8)
                kill(run.process.processIdentifier, SIGHUP)
                let refused = Wait.until { run.stderr.contains("reload: the rules are refused, the loaded ones stay") }
                #expect(refused, "\(run.stderr.suffix(400))")
                #expect(run.stderr.contains("96-broken.rules:1"), "the refusal names the file and line")
                #expect(try KernelAudit.listing() == before)
                #expect(run.process.isRunning)
            }
        }

        @Test("SIGHUP reopens the output file after it was moved away (logrotate); SIGUSR1 prints the counters")
        func reopenAndCounters() throws {
            let directory = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let file = directory.appendingPathComponent("events.jsonl")
            let marker = Live.marker()
            _ = try Live.withLiveRun(["--no-stdout", "--file", file.path]) { run in
                _ = try Live.spawn("/bin/true", [marker, "before"])
                try #require(try run.barrier(in: file))
                try FileManager.default.moveItem(at: file, to: directory.appendingPathComponent("events.jsonl.1"))
                kill(run.process.processIdentifier, SIGHUP)
                _ = try Live.spawn("/bin/true", [marker, "after"])
                try #require(try run.barrier(in: file), "nothing was written to a new file: \(run.stderr.suffix(300))")
                let events = try Command.jsonLines(try Data(contentsOf: file))
                #expect(Live.execEvents(events, marker: marker).map { Live.argv($0).last } == ["after"])

                #expect(!run.stderr.contains("nodeaudit: stats: "))
                kill(run.process.processIdentifier, SIGUSR1)
                let printed = Wait.until { run.stderr.contains("nodeaudit: stats: ") }
                #expect(printed, "SIGUSR1 printed no counters")
            }
        }

        @Test("useradd during a run: the new account's events carry its name")
        func newAccountIsNamed() throws {
            let useradd = try ReferenceTools.path("useradd", package: "passwd")
            let userdel = try ReferenceTools.path("userdel", package: "passwd")
            let name = "na" + UUID().uuidString.prefix(8).lowercased()
            let marker = Live.marker()
            _ = try Live.withLiveRun { run in
                let added = try Command.run(useradd, ["-M", "-N", "-g", "nogroup", "-s", "/usr/sbin/nologin", name])
                try #require(added.status == 0, "\(added.stderr)")
                defer { _ = try? Command.run(userdel, [name]) }
                let uid = try #require(Int(try Command.run("/usr/bin/id", ["-u", name]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
                // Execs as the new account until one of its events carries the name (the
                // user database is compared with the files once a second).
                var named = false
                var attempt = 0
                let found = try Wait.until(seconds: 30) {
                    attempt += 1
                    _ = try Live.spawn("/usr/bin/setpriv", ["--reuid=\(uid)", "--regid=65534", "--clear-groups", "/bin/true", marker, String(attempt)])
                    let events = Live.execEvents(try Command.completeJSONLines(try Data(contentsOf: run.stdoutFile)), marker: marker)
                    named = events.contains { (Live.process($0)["uid"] as? [String: Any])?["name"] as? String == name }
                    return named
                }
                #expect(found && named, "no event named \(name) (uid \(uid)): \(run.stderr.suffix(300))")
            }
        }
    
        @Test("SIGHUP reads the configuration again: a live setting takes effect, another is named for the next start, a broken file is refused")
        func configurationReload() throws {
            let directory = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let config = directory.appendingPathComponent("nodeaudit.yaml")
            try "stats:\n  interval_seconds: 0\n".write(to: config, atomically: true, encoding: .utf8)
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            // No --stats-interval flag: flags are the last layer, a reload keeps them.
            let run = try LiveRun(["--config", config.path, "--rules", "Rules", "--cleanup"])
            try #require(try run.start(), "\(run.stderr)")
            defer { #expect(run.stop() == 0) }
            do {
                try "stats:\n  interval_seconds: 0.2\noutput:\n  format: ecs\n".write(to: config, atomically: true, encoding: .utf8)
                kill(run.process.processIdentifier, SIGHUP)
                let periodic = Wait.until { run.stderr.contains("nodeaudit: stats: ") }
                #expect(periodic, "the new statistics interval was not taken: \(run.stderr.suffix(300))")
                #expect(run.stderr.contains("reload: output.format changed; in force from the next start"), "\(run.stderr.suffix(300))")

                try "stats:\n  interval_seconds: often\n".write(to: config, atomically: true, encoding: .utf8)
                kill(run.process.processIdentifier, SIGHUP)
                let refused = Wait.until { run.stderr.contains("reload: the configuration is refused, the running one stays") }
                #expect(refused, "\(run.stderr.suffix(300))")
                #expect(run.stderr.contains("\(config.path):2:21"), "the refusal names the place")
                #expect(run.process.isRunning)
            }
        }
    }
}
