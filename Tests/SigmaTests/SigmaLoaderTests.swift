import Foundation
import Sigma
import Testing

@Suite("Sigma rule files: what loads, and what is refused with its place and construct")
struct SigmaLoaderTests {
    static func refusal(_ text: String) -> SigmaError? {
        let loaded = SigmaLoader.load(text, file: "rules/x.yml")
        #expect(loaded.rules.isEmpty, "refused rules are never half-loaded")
        return loaded.refusals.first
    }

    @Test("a rule's metadata: id, title, level, tags, log source")
    func metadata() throws {
        let rule = try SigmaTestRules.rule(SigmaTestRules.processCreation("    sel:\n        Image: /bin/sh\n    condition: sel"))
        #expect(rule.id == "5f0c2a62-0000-4000-8000-000000000001")
        #expect(rule.title == "test rule")
        #expect(rule.level == .high)
        #expect(rule.tags == ["attack.execution", "attack.t1059"])
        #expect(rule.logSource == .processCreation)
        #expect(rule.line == 1)
    }

    @Test("refusals name the construct and point at it", arguments: [
        ("    sel:\n        Image|utf16le: x\n    condition: sel", "modifier utf16le", 10, 9),
        ("    sel:\n        Image|expand: '%x%'\n    condition: sel", "modifier expand", 10, 9),
        ("    sel:\n        Hashes: abc\n    condition: sel", "field Hashes in process_creation", 10, 9),
        ("    sel:\n        Image: x\n    condition: sel | count() > 5", "condition aggregation", 11, 16),
        ("    sel:\n        Image: x\n    condition: sel and other", "condition identifier", 11, 16),
        ("    sel:\n        Image: x\n    condition: sel and", "condition syntax", 11, 16),
        ("    sel:\n        Image: x\n    condition: 2 of sel*", "condition N of", 11, 16),
        ("    sel:\n        Image: x\n    timeframe: 5m\n    condition: sel", "timeframe", 11, 5),
        ("    sel:\n        Image|re: '(a)\\1'\n    condition: sel", "regex backreference", 10, 19),
        ("    sel:\n        Image|re: 'a(?=b)'\n    condition: sel", "regex lookahead", 10, 19),
        ("    sel:\n        Image|re: 'a{2000}'\n    condition: sel", "regex repetition", 10, 19),
        ("    sel:\n        Image|re: '(a{999}){999}'\n    condition: sel", "regex size", 10, 19),
        ("    sel:\n        DestinationIp|cidr: 10.0.0.0/33\n    condition: sel", "field DestinationIp in process_creation", 10, 9),
        ("    sel:\n        ProcessId|gt: many\n    condition: sel", "modifier gt", 10, 23),
        ("    sel:\n        Image|i: x\n    condition: sel", "modifier i", 10, 9),
        ("    sel:\n    condition: sel", "detection shape", 9, 9),
        ("    sel:\n        - evil\n        - ~\n    condition: sel", "detection shape", 11, 11),
    ])
    func refusals(detection: String, construct: String, line: Int, column: Int) throws {
        let refusal = try #require(Self.refusal(SigmaTestRules.processCreation(detection)))
        #expect(refusal.construct == construct, "\(refusal)")
        #expect((refusal.line, refusal.column) == (line, column), "\(refusal)")
        #expect(refusal.description.hasPrefix("rules/x.yml:\(refusal.line):\(refusal.column): "))
    }

    @Test("log sources nodeaudit does not supply, correlations it cannot run and YAML errors are refused by name")
    func otherRefusals() throws {
        let windows = SigmaTestRules.processCreation("    sel:\n        Image: x\n    condition: sel").replacingOccurrences(of: "product: linux", with: "product: windows")
        #expect(Self.refusal(windows)?.construct == "logsource product windows, category process_creation")
        let base = SigmaTestRules.processCreation("    sel:\n        Image: x\n    condition: sel") + "\nname: base\n---\n"
        func correlation(_ body: String) -> [String] {
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-correlation-\(UUID().uuidString).yml")
            defer { try? FileManager.default.removeItem(at: file) }
            try? (base + "title: many\ncorrelation:\n" + body).write(to: file, atomically: true, encoding: .utf8)
            return SigmaRuleSet.load([file.path]).refusals.map(\.construct)
        }
        #expect(correlation("    type: event_count\n    rules: [base]\n    timespan: 1m\n    condition: {gte: 3}\n") == [])
        #expect(correlation("    type: event_count\n    rules: [other]\n    timespan: 1m\n    condition: {gte: 3}\n") == ["correlation reference"])
        #expect(correlation("    type: value_count\n    rules: [base]\n    timespan: 1m\n    condition: {gte: 3, field: User}\n") == ["correlation value_count"])
        #expect(correlation("    type: event_count\n    rules: [base]\n    timespan: 1m\n    condition: {lt: 3}\n") == ["correlation condition lt"])
        #expect(correlation("    type: event_count\n    rules: [base]\n    timespan: soon\n    condition: {gte: 3}\n") == ["correlation timespan"])
        #expect(correlation("    type: temporal\n    rules: [base]\n    group-by: [DestinationIp]\n    timespan: 1m\n") == ["field DestinationIp in process_creation"])
        #expect(Self.refusal("title: [unclosed\n")?.construct == "YAML")
    }

    @Test("several documents in a file: each loads or is refused alone")
    func documents() {
        let good = SigmaTestRules.processCreation("    sel:\n        Image: /bin/sh\n    condition: sel")
        let bad = SigmaTestRules.processCreation("    sel:\n        Image|wide: x\n    condition: sel")
        let loaded = SigmaLoader.load(good + "\n---\n" + bad + "\n---\n" + good, file: "many.yml")
        #expect(loaded.rules.count == 2)
        #expect(loaded.refusals.map(\.construct) == ["modifier wide"])
        #expect(loaded.refusals.first?.line == 22, "the line in the file, not in the document")
    }

    @Test("hostile files: a deep condition, an alias bomb, a huge list, a huge file are refused, not run")
    func hostile() {
        let deep = String(repeating: "(", count: 200) + "sel" + String(repeating: ")", count: 200)
        #expect(Self.refusal(SigmaTestRules.processCreation("    sel:\n        Image: x\n    condition: '\(deep)'"))?.construct == "condition depth")
        var bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1..<9 { bomb += "\(Character(UnicodeScalar(97 + level)!)): &\(Character(UnicodeScalar(97 + level)!)) [" + Array(repeating: "*\(Character(UnicodeScalar(96 + level)!))", count: 10).joined(separator: ", ") + "]\n" }
        #expect(Self.refusal(bomb)?.construct == "YAML")
        let list = (0..<10_001).map { "            - v\($0)" }.joined(separator: "\n")
        #expect(Self.refusal(SigmaTestRules.processCreation("    sel:\n        Image:\n\(list)\n    condition: sel"))?.construct == "list size")
        #expect(Self.refusal(String(repeating: "#", count: SigmaLoader.maxFileBytes + 1))?.construct == "file size")
    }
}
