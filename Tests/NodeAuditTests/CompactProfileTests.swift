import Foundation
import Testing
import TestSupport

/// `events.profile: compact` on the corpus: each event is its full form with exactly the
/// documented omissions, and the whole is at most half the bytes.
@Suite("compact events")
struct CompactProfileTests {
    static let corpus = Fixtures.corpusFile("exec-net-login.raw.log")

    /// With user names, as `run` writes the events on the node (the corpus was recorded on
    /// a machine with the same root account).
    static func parse(_ arguments: [String]) throws -> (lines: Data, events: [[String: Any]]) {
        let result = try NodeAuditBinary.run(["parse", "--quiet", "--host-users"] + arguments + [corpus])
        try #require(result.status == 0, "\(result.stderr)")
        return (result.stdout, try Command.jsonLines(result.stdout))
    }

    /// The full event with what docs/events.md says compact leaves out, removed.
    static func compacted(_ full: [String: Any]) -> [String: Any] {
        var event = full
        event["serial"] = nil
        event["record_types"] = nil
        let unset = 4294967295
        if var process = event["process"] as? [String: Any] {
            func id(_ role: String) -> Int? { (process[role] as? [String: Any])?["id"] as? Int }
            if let argv = process["argv"] as? [String] {
                if process["proctitle"] as? [String] == argv { process["proctitle"] = nil }
                if process["argv_truncated"] == nil, process["argc"] as? Int == argv.count { process["argc"] = nil }
            }
            for role in ["euid", "suid", "fsuid"] where id(role) != nil && id(role) == id("uid") { process[role] = nil }
            for role in ["egid", "sgid", "fsgid"] where id(role) != nil && id(role) == id("gid") { process[role] = nil }
            if id("auid") == unset { process["auid"] = nil }
            event["process"] = process
        }
        if var syscall = event["syscall"] as? [String: Any] {
            if syscall["name"] != nil { syscall["number"] = nil }
            if (event["process"] as? [String: Any])?["argv"] != nil { syscall["args"] = nil }
            event["syscall"] = syscall
        }
        if let paths = event["paths"] as? [[String: Any]] {
            event["paths"] = paths.map { path in
                var path = path
                for key in ["item", "inode", "dev"] { path[key] = nil }
                if path["nametype"] as? String == "NORMAL" { path["nametype"] = nil }
                return path
            }
        }
        if let details = event["details"] as? [[String: Any]] {
            let kept = details.filter { detail in
                !(detail["type"] as? String == "BPRM_FCAPS" && ["fp", "fi", "fe"].allSatisfy { detail[$0] as? String == "0" })
            }
            event["details"] = kept.isEmpty ? nil : kept
        }
        return event
    }

    @Test("each compact event is its full event less exactly the documented omissions; the corpus takes at most half the bytes")
    func omissions() throws {
        let full = try Self.parse([])
        let compact = try Self.parse(["--profile", "compact"])
        try #require(full.events.count == compact.events.count && full.events.count > 6000)
        var differing = 0
        for (f, c) in zip(full.events, compact.events) where !NSDictionary(dictionary: Self.compacted(f)).isEqual(to: c) {
            differing += 1
            if differing < 4 { Issue.record("\(f["id"] ?? "?"): expected \(Self.compacted(f)), got \(c)") }
        }
        #expect(differing == 0)
        let omittedSomething = zip(full.lines.split(separator: 10), compact.lines.split(separator: 10)).filter { $0.count > $1.count }.count
        #expect(omittedSomething == full.events.count, "every corpus event has something that repeats")
        #expect(compact.lines.count * 2 <= full.lines.count, "compact \(compact.lines.count) bytes, full \(full.lines.count)")
    }

    @Test("compact is a form of the native format: with ECS it is refused")
    func notWithECS() throws {
        let result = try NodeAuditBinary.run(["parse", "--profile", "compact", "--format", "ecs", Self.corpus])
        #expect(result.status == 2)
        #expect(result.stderr.contains("events.profile compact"))
    }

    /// `event` without the member at each dotted path, as `--omit` describes it (inside
    /// arrays of objects the path goes on in each element).
    static func removing(_ paths: [[String]], from event: [String: Any]) -> [String: Any] {
        var event = event
        for path in paths {
            guard let first = path.first else { continue }
            if path.count == 1 {
                event[first] = nil
            } else if let inner = event[first] as? [String: Any] {
                event[first] = removing([Array(path.dropFirst())], from: inner)
            } else if let list = event[first] as? [Any] {
                event[first] = list.map { ($0 as? [String: Any]).map { removing([Array(path.dropFirst())], from: $0) } ?? $0 }
            }
        }
        return event
    }

    @Test("--omit: each event of the corpus, native and ECS, is its full event less exactly the fields and groups named", arguments: [
        ([] as [String], ["records", "record_types", "process.euid", "process.suid", "process.fsuid", "syscall.args", "process.parent.args", "paths.nametype"]),
        (["--format", "ecs"], ["nodeaudit.record_types", "process.command_line", "process.parent.args", "ecs", "event.module"]),
    ])
    func omitted(format: [String], paths: [String]) throws {
        let common = format + ["--records", "--ancestry-depth", "2"]
        let full = try Self.parse(common).events
        let omitted = try Self.parse(common + paths.flatMap { ["--omit", $0] })
        try #require(full.count == omitted.events.count && full.count > 1000)
        let split = paths.map { $0.split(separator: ".").map(String.init) }
        var changed = 0
        for (whole, less) in zip(full, omitted.events) {
            let expected = Self.removing(split, from: whole)
            #expect(NSDictionary(dictionary: expected).isEqual(to: less), "\(whole["id"] ?? "?")")
            if !NSDictionary(dictionary: whole).isEqual(to: less) { changed += 1 }
        }
        #expect(changed > full.count / 2, "the paths named fields of most events: \(changed) of \(full.count)")
    }

    @Test("an output's omissions are checked with the configuration: a path that is not one is named with file:line:column")
    func omissionConfigured() throws {
        let config = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-omit-\(UUID().uuidString).yaml")
        defer { try? FileManager.default.removeItem(at: config) }
        try "output:\n  syslog_omit: [records, \"process..uid\"]\n  http_omit: [id]\n".write(to: config, atomically: true, encoding: .utf8)
        let check = try NodeAuditBinary.run(["config", "check", config.path])
        #expect(check.status == 2)
        #expect(check.stderr.contains("\(config.path):2:3: output.syslog_omit: 'process..uid' is not a field path"), "\(check.stderr)")
        #expect(check.stderr.contains("\(config.path):3:3: output.http_omit: 'id' cannot be left out"), "\(check.stderr)")
    }
}
