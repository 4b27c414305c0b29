import OfflineParse
import AuditEvents
import Enrichment
import Foundation
import Pipeline
import Output
import Testing
import TestSupport

/// Runs `nodeaudit parse` in-process on files and returns its JSON events.
func parseEvents(_ paths: [String], includeRecords: Bool = false) throws -> (events: [[String: Any]], counters: PipelineCounters) {
    let sink = MemorySink()
    let pipeline = EventPipeline(
        enrichers: [UserNameResolver(database: UserDatabase(passwdPath: "/etc/passwd", groupPath: "/etc/group")), LoginSessionTracker()],
        encoder: NativeJSONEncoder(includeRecords: includeRecords), sink: sink)
    try OfflineParser(pipeline: pipeline, diagnostics: Diagnostics(quiet: true)).run(paths: paths)
    return (try Command.jsonLines(Data(sink.bytes)), pipeline.snapshot())
}

/// laurel's events for a file, with translation and enrichment off so only
/// correlation and argv decoding are compared.
func laurelEvents(_ path: String) throws -> [[String: Any]] {
    let laurel = try ReferenceTools.path("laurel", package: "laurel")
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-laurel-\(getpid())")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let config = directory.appendingPathComponent("laurel.toml")
    try """
    directory = "\(directory.path)"
    [auditlog]
    file = "-"
    [transform]
    execve-argv = [ "array" ]
    [translate]
    universal = false
    user-db = false
    [enrich]
    pid = false
    container = false
    script = false
    execve-env = []
    """.write(to: config, atomically: true, encoding: .utf8)
    let result = try Command.run(laurel, ["-c", config.path], stdinFile: path)
    #expect(result.status == 0, "laurel failed: \(result.stderr)")
    return try Command.jsonLines(result.stdout)
}

@Suite("Corpus: nodeaudit agrees with laurel and libauparse", .serialized)
struct CorpusReferenceTests {
    /// The number of events libauparse (python3-audit) finds in a file.
    private func auparseEventCount(_ path: String) throws -> Int {
        let script = """
        import auparse, sys
        au = auparse.AuParser(auparse.AUSOURCE_FILE, sys.argv[1])
        n = 0
        while au.parse_next_event():
            n += 1
        print(n)
        """
        let result = try Command.run("/usr/bin/python3", ["-c", script, path])
        #expect(result.status == 0, "libauparse failed (python3-audit installed?): \(result.stderr)")
        return try #require(Int(result.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test("event counts and every exec argv match", arguments: ["exec-net-login.raw.log", "exec-net-login.enriched.log"])
    func matchesReferences(file: String) throws {
        let path = Fixtures.corpusFile(file)
        let (ours, counters) = try parseEvents([path])
        let laurel = try laurelEvents(path)
        let auparseCount = try auparseEventCount(path)

        #expect(ours.count == laurel.count)
        #expect(ours.count == auparseCount)
        #expect(counters.malformed == 0)
        #expect(counters.assembly.lateRecords == 0)
        #expect(Set(ours.compactMap { $0["id"] as? String }) == Set(laurel.compactMap { $0["ID"] as? String }))

        var oursByID: [String: [String: Any]] = [:]
        for event in ours { if let id = event["id"] as? String { oursByID[id] = event } }
        var compared = 0
        for event in laurel {
            guard let execve = event["EXECVE"] as? [String: Any], let argv = execve["ARGV"] as? [String],
                  let id = event["ID"] as? String else { continue }
            let process = oursByID[id]?["process"] as? [String: Any]
            #expect(process?["argv"] as? [String] == argv, "argv differs for \(id)")
            #expect(oursByID[id]?["category"] as? String == "exec")
            compared += 1
        }
        let ourExecs = ours.filter { ($0["process"] as? [String: Any])?["argv"] != nil }.count
        #expect(compared == ourExecs)
        #expect(compared > 1000)
    }
}

@Suite("nodeaudit parse: schema and input handling")
struct ParseBehaviourTests {
    @Test("every event has the schema's required fields, with RFC 3339 time")
    func schema() throws {
        let (events, _) = try parseEvents([Fixtures.fixtureFile("kernel-cases.raw.log")], includeRecords: true)
        #expect(events.count == 11)
        for event in events {
            #expect(event["id"] is String)
            let time = try #require(event["time"] as? String)
            #expect(time.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$"#, options: .regularExpression) != nil)
            #expect(event["serial"] is Int)
            #expect(EventCategory(rawValue: event["category"] as? String ?? "") != nil)
            let types = try #require(event["record_types"] as? [String])
            let records = try #require(event["records"] as? [[String: Any]])
            #expect(records.map { $0["type"] as? String } == types)
        }
        let exec = try #require(events.first { $0["serial"] as? Int == 6 })
        let process = try #require(exec["process"] as? [String: Any])
        #expect((process["argv"] as? [String])?[1].count == 20000)
        #expect((exec["syscall"] as? [String: Any])?["name"] as? String == "execve")
        #expect(((process["uid"] as? [String: Any])?["name"]) as? String == "root")
    }

    @Test("rotated files are read as one stream: an event split across them is one event")
    func rotatedFiles() throws {
        let lines = try Fixtures.lines(ofFile: Fixtures.fixtureFile("kernel-cases.raw.log"))
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-rotated-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // Split inside event 6 (its EXECVE records).
        let cut = try #require(lines.firstIndex { $0.contains("a1[2]=") })
        let older = directory.appendingPathComponent("audit.log.1")
        let newer = directory.appendingPathComponent("audit.log")
        try (lines[..<cut].joined(separator: "\n") + "\n").write(to: older, atomically: true, encoding: .utf8)
        try lines[cut...].joined(separator: "\n").write(to: newer, atomically: true, encoding: .utf8)
        let (events, _) = try parseEvents([older.path, newer.path])
        let (whole, _) = try parseEvents([Fixtures.fixtureFile("kernel-cases.raw.log")])
        #expect(events.count == whole.count)
        let exec = events.first { $0["serial"] as? Int == 6 }
        #expect(((exec?["process"] as? [String: Any])?["argv"] as? [String])?[1].count == 20000)
    }

    @Test("the nodeaudit command reports a bad line with file:line, counts it, and still emits the events")
    func malformedLineThroughCommand() throws {
        let binary = NodeAuditBinary.path
        try #require(FileManager.default.isExecutableFile(atPath: binary), "nodeaudit binary not built at \(binary)")
        var lines = try Fixtures.lines(ofFile: Fixtures.fixtureFile("kernel-cases.raw.log"))
        lines.insert("type=SYSCALL msg=audit(garbage): arch=c000003e", at: 1)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-bad-\(getpid()).log")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }

        let result = try Command.run(binary, ["parse", file.path])
        #expect(result.status == 0)
        #expect(result.stderr.contains("\(file.path):2: malformed stamp 'audit(garbage)'"))
        #expect(result.stderr.contains("1 malformed"))
        #expect(try Command.jsonLines(result.stdout).count == 11)

        let missing = try Command.run(binary, ["parse", "/nonexistent/audit.log"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot open /nonexistent/audit.log: No such file or directory"))
        #expect(missing.stdout.isEmpty)

        let stdin = try Command.run(binary, ["parse", "--quiet"], stdinFile: Fixtures.fixtureFile("kernel-cases.raw.log"))
        #expect(stdin.status == 0)
        #expect(stdin.stderr.isEmpty)
        #expect(try Command.jsonLines(stdin.stdout).count == 11)
    }
}
