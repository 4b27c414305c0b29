import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// What operators send a running collector: SIGHUP after changing its files (rules,
    /// configuration, the host's accounts, a rotated output file), SIGUSR1 for counters.
    @Suite("Reload and signals on the real kernel", .serialized)
    struct ReloadKernelTests {
        typealias Live = LiveKernelTests

        static func temporaryDirectory() throws -> URL { try Fixtures.temporaryDirectory("reload") }

        @Test("SIGHUP loads an added rule file and unloads a removed one within 5 s; a broken one keeps the loaded rules and says why")
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
                let loaded = try Wait.until(seconds: 5) { try KernelAudit.listing().contains(watch) }
                #expect(loaded, "the added rule was not loaded within 5 s: \(run.stderr.suffix(400))")
                try FileManager.default.removeItem(at: rules.appendingPathComponent("95-added.rules"))
                kill(run.process.processIdentifier, SIGHUP)
                let removed = try Wait.until(seconds: 5) { try !KernelAudit.listing().contains(watch) }
                #expect(removed, "the removed file's rule stayed: \(run.stderr.suffix(400))")
                try "\(watch)\n".write(to: rules.appendingPathComponent("95-added.rules"), atomically: true, encoding: .utf8)
                kill(run.process.processIdentifier, SIGHUP)
                #expect(try Wait.until(seconds: 5) { try KernelAudit.listing().contains(watch) })

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

        @Test("a ConfigMap update (the ..data symlink swapped) adds and removes rules within 5 s without SIGHUP, as a rules_reloaded event; other tools' rules stay")
        func configMapSwap() throws {
            let directory = try Self.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: directory) }
            let fm = FileManager.default
            let marker = Live.marker()
            let (kept, gone, added) = ("-w /tmp/\(marker)-kept -p wa -k \(marker)", "-w /tmp/\(marker)-gone -p wa -k \(marker)",
                                       "-w /tmp/\(marker)-added -p wa -k \(marker)")
            // The kubelet's layout: files are symlinks into ..data, itself a symlink to a
            // timestamped directory; an update writes a new directory and renames a new
            // ..data symlink over the old one.
            func version(_ name: String, _ files: [String: String]) throws {
                let path = directory.appendingPathComponent(name)
                try fm.createDirectory(at: path, withIntermediateDirectories: true)
                for (file, text) in files { try text.write(to: path.appendingPathComponent(file), atomically: true, encoding: .utf8) }
                let link = directory.appendingPathComponent("..data_tmp")
                try? fm.removeItem(at: link)
                try fm.createSymbolicLink(atPath: link.path, withDestinationPath: name)
                guard rename(link.path, directory.appendingPathComponent("..data").path) == 0 else { throw CocoaError(.fileWriteUnknown) }
                for file in files.keys where !fm.fileExists(atPath: directory.appendingPathComponent(file).path) {
                    try fm.createSymbolicLink(atPath: directory.appendingPathComponent(file).path, withDestinationPath: "..data/" + file)
                }
            }
            try version("..2026_12_01_v1", ["10-kept.rules": kept + "\n", "20-gone.rules": gone + "\n"])
            let foreign = "-w /tmp/\(marker)-foreign -p wa -k \(marker)_other_tool"
            _ = try Live.withLiveRun(["--rules", directory.path]) { run in
                _ = try KernelAudit.auditctl("-w", "/tmp/\(marker)-foreign", "-p", "wa", "-k", "\(marker)_other_tool")
                #expect(try KernelAudit.listing().contains(gone))
                try version("..2026_12_01_v2", ["10-kept.rules": kept + "\n", "30-added.rules": added + "\n"])
                try fm.removeItem(at: directory.appendingPathComponent("20-gone.rules"))
                let swapped = try Wait.until(seconds: 5) {
                    let listing = try KernelAudit.listing()
                    return listing.contains(added) && !listing.contains(gone)
                }
                #expect(swapped, "the update was not applied within 5 s: \(run.stderr.suffix(600))")
                let listing = try KernelAudit.listing()
                #expect(listing.contains(kept) && listing.contains(foreign))
                #expect(try run.barrier())
                let reloaded = try run.events().filter { $0["type"] as? String == "nodeaudit_rules_reloaded" }
                let change = reloaded.last?["rules_reloaded"] as? [String: Any]
                #expect(change?["trigger"] as? String == "files")
                #expect(change?["added"] as? [String] == [added] && change?["removed"] as? [String] == [gone], "\(reloaded)")

                // A broken update keeps the rules, and says so in the stream.
                try version("..2026_12_01_v3", ["10-kept.rules": kept + "\n-a always,exit -F arch=b64 -S nosuchcall -k \(marker)\n",
                                                "30-added.rules": added + "\n"])
                let refused = Wait.until(seconds: 5) { run.stderr.contains("reload: the rules are refused, the loaded ones stay") }
                #expect(refused && run.stderr.contains("10-kept.rules:2"), "\(run.stderr.suffix(600))")
                #expect(try KernelAudit.listing() == listing)
            }
            _ = try? KernelAudit.auditctl("-W", "/tmp/\(marker)-foreign", "-p", "wa", "-k", "\(marker)_other_tool")
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
