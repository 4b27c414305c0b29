import Foundation

/// nodeaudit's Sigma matches and pySigma's (Tests/Oracle/sigma_oracle.py, its SQLite
/// backend over the fields `nodeaudit sigma fields` gives), on the same audit logs.
public enum SigmaOracle {
    /// Rule id → the ids of the events nodeaudit's `parse --sigma` matched.
    public static func nodeauditMatches(rules: [String], logs: [String]) throws -> [String: Set<String>] {
        let result = try NodeAuditBinary.run(["parse", "--quiet"] + rules.flatMap { ["--sigma", $0] }
                                             + ["--filter", "keep detection=*", "--filter", "drop all"] + logs)
        guard result.status == 0 else { throw Failure(step: "nodeaudit parse", output: result.stderr) }
        var matches: [String: Set<String>] = [:]
        for event in try Command.jsonLines(result.stdout) {
            for detection in event["detections"] as? [[String: Any]] ?? [] {
                matches[detection["id"] as? String ?? "", default: []].insert(event["id"] as? String ?? "")
            }
        }
        return matches
    }

    /// Rule id → the ids of the events pySigma's SQL selects (every rule of the files, with
    /// or without matches).
    public static func oracleMatches(rules: [String], logs: [String]) throws -> [String: Set<String>] {
        let fields = try NodeAuditBinary.run(["sigma", "fields"] + logs)
        guard fields.status == 0 else { throw Failure(step: "nodeaudit sigma fields", output: fields.stderr) }
        let directory = try Fixtures.temporaryDirectory("oracle")
        defer { try? FileManager.default.removeItem(at: directory) }
        let table = directory.appendingPathComponent("fields.jsonl")
        try fields.stdout.write(to: table)
        let oracle = try Command.run(try ReferenceTools.toolsPython(),
                                     [Fixtures.repositoryRoot.appendingPathComponent("Tests/Oracle/sigma_oracle.py").path, table.path] + rules)
        guard oracle.status == 0 else { throw Failure(step: "sigma_oracle.py", output: oracle.stderr) }
        let decoded = try JSONSerialization.jsonObject(with: oracle.stdout) as? [String: [String]] ?? [:]
        return decoded.mapValues(Set.init)
    }

    /// The rules on which the two disagree, each with what only one side matched.
    public static func disagreements(rules: [String], logs: [String]) throws -> (rules: Int, matching: Int, differences: [String]) {
        let ours = try nodeauditMatches(rules: rules, logs: logs)
        let theirs = try oracleMatches(rules: rules, logs: logs)
        var differences: [String] = []
        for (rule, expected) in theirs.sorted(by: { $0.key < $1.key }) where (ours[rule] ?? []) != expected {
            let found = ours[rule] ?? []
            differences.append("rule \(rule): only pySigma \(expected.subtracting(found).sorted().prefix(5)), only nodeaudit \(found.subtracting(expected).sorted().prefix(5))")
        }
        for rule in Set(ours.keys).subtracting(theirs.keys) { differences.append("rule \(rule): unknown to pySigma") }
        return (theirs.count, theirs.values.filter { !$0.isEmpty }.count, differences)
    }

    public struct Failure: Error, CustomStringConvertible {
        public var step: String
        public var output: String
        public var description: String { "\(step) failed: \(output)" }
    }

    /// The raw audit log of events written with `--records`: each record as the kernel's
    /// log line, `type=T msg=audit(ID): TEXT`.
    public static func rawLog(ofEvents events: [[String: Any]]) -> String {
        events.flatMap { event -> [String] in
            guard let id = event["id"] as? String, !id.hasPrefix("nodeaudit-") else { return [] }
            let stamp = id.split(separator: "/").last.map(String.init) ?? id
            return ((event["records"] as? [[String: Any]]) ?? []).compactMap { record in
                guard let type = record["type"] as? String, let text = record["text"] as? String else { return nil }
                return "type=\(type) msg=audit(\(stamp)): \(text)"
            }
        }.joined(separator: "\n") + "\n"
    }
}
