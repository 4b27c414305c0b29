import Foundation
import Testing
import TestSupport

/// nodeaudit's Sigma matches against an independent reading: pySigma's SQLite backend
/// (Tests/Oracle/sigma_oracle.py) run over the fields nodeaudit's view gives of the same
/// events (`nodeaudit sigma fields`), rule by rule. Needs the tools' virtual environment
/// (`Scripts/setup --test`).
@Suite("Sigma: nodeaudit against pySigma's SQLite backend")
struct SigmaOracleTests {
    static let logs = [Fixtures.corpusFile("exec-net-login.raw.log"), Fixtures.fixtureFile("ecs-cases.raw.log"),
                       Fixtures.fixtureFile("kernel-cases.raw.log"), Fixtures.fixtureFile("sigma-cases.raw.log")]

    /// Rule id → the ids of the events it matched, by nodeaudit.
    static func nodeauditMatches(_ rules: [String]) throws -> [String: Set<String>] {
        let result = try NodeAuditBinary.run(["parse", "--quiet"] + rules.flatMap { ["--sigma", $0] }
                                             + ["--filter", "keep detection=*", "--filter", "drop all"] + logs)
        try #require(result.status == 0, "\(result.stderr)")
        var matches: [String: Set<String>] = [:]
        for event in try Command.jsonLines(result.stdout) {
            for detection in event["detections"] as? [[String: Any]] ?? [] {
                matches[detection["id"] as? String ?? "", default: []].insert(event["id"] as? String ?? "")
            }
        }
        return matches
    }

    /// Rule id → the ids of the events pySigma's SQL selects.
    static func oracleMatches(_ rules: [String]) throws -> [String: Set<String>] {
        let fields = try NodeAuditBinary.run(["sigma", "fields"] + logs)
        try #require(fields.status == 0, "\(fields.stderr)")
        let table = try Fixtures.temporaryDirectory("oracle").appendingPathComponent("fields.jsonl")
        defer { try? FileManager.default.removeItem(at: table.deletingLastPathComponent()) }
        try fields.stdout.write(to: table)
        let oracle = try Command.run(try ReferenceTools.toolsPython(),
                                     [Fixtures.repositoryRoot.appendingPathComponent("Tests/Oracle/sigma_oracle.py").path, table.path] + rules)
        try #require(oracle.status == 0, "\(oracle.stderr)")
        let decoded = try JSONSerialization.jsonObject(with: oracle.stdout) as? [String: [String]] ?? [:]
        return decoded.mapValues(Set.init)
    }

    @Test("every rule the tests use matches the same events in both, on the corpus, the fixtures and crafted triggers", arguments: [
        "sigma/oracle.yml", "sigma/ecs-cases.yml", "sigma/detection-tests.yml",
    ])
    func agreement(file: String) throws {
        let rules = [Fixtures.fixtureFile(file)]
        let ours = try Self.nodeauditMatches(rules)
        let theirs = try Self.oracleMatches(rules)
        #expect(!theirs.isEmpty)
        for (rule, expected) in theirs.sorted(by: { $0.key < $1.key }) {
            let found = ours[rule] ?? []
            #expect(found == expected, "rule \(rule): only pySigma \(expected.subtracting(found).sorted().prefix(5)), only nodeaudit \(found.subtracting(expected).sorted().prefix(5))")
        }
        #expect(Set(ours.keys).isSubset(of: Set(theirs.keys)))
        // The oracle is no formality: most rules match something, and something else not.
        #expect(theirs.values.filter { !$0.isEmpty }.count >= theirs.count - 1, "\(theirs.mapValues(\.count))")
    }
}
