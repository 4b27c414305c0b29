import AuditEvents
import AuditRecords
import Foundation
import Testing
import TestSupport

@Suite("ATT&CK technique ids in rule keys")
struct AttackTechniquesTests {
    /// The ids `keys` name, read as an event's text holds them.
    static func ids(_ keys: [String]) -> [String] {
        var text = EventText()
        let ranges = keys.map { text.append(Array($0.utf8)[...]) }
        return text.withBytes { bytes in
            AttackTechniques.ids(of: ranges, in: bytes).map { String(decoding: bytes[$0], as: UTF8.self) }
        }
    }

    @Test("ids at the start or after a separator, with their sub-technique; not inside words or longer numbers", arguments: [
        ("T1059", ["T1059"]), ("T1059.004", ["T1059.004"]), ("T1078_Valid_Accounts", ["T1078"]),
        ("mitre-T1548.001,T1222", ["T1548.001", "T1222"]), ("T1059.x", ["T1059"]), ("T1059.00", ["T1059"]),
        ("aT1059", []), ("T10590", []), ("T105", []), ("T1003.0011", []), ("CVE-2021-T12345", []), ("t1059", []), ("", []),
    ])
    func ids(key: String, expected: [String]) {
        #expect(Self.ids([key]) == expected)
    }

    @Test("an id named by two keys is listed once, in first-seen order")
    func once() {
        #expect(Self.ids(["T1222_perm", "T1059,T1222"]) == ["T1222", "T1059"])
    }

    /// A rule of the shipped Rules/ with its keys and the comment paragraph above it.
    struct ShippedRule: CustomTestStringConvertible {
        var location: String
        var keys: [String]
        var comment: String
        var testDescription: String { location }
    }

    /// Each rule with a key in Rules/, with the comment lines of its paragraph (from the
    /// last blank line above it).
    static func shippedRules() throws -> [ShippedRule] {
        let directory = Fixtures.repositoryRoot.appendingPathComponent("Rules")
        var rules: [ShippedRule] = []
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted() where file.hasSuffix(".rules") {
            var comment = ""
            for (index, line) in try Fixtures.lines(ofFile: directory.appendingPathComponent(file).path).enumerated() {
                if line.trimmingCharacters(in: .whitespaces).isEmpty {
                    comment = ""
                } else if line.hasPrefix("#") {
                    comment += line + "\n"
                } else {
                    let words = line.split(separator: " ").map(String.init)
                    let keys = zip(words, words.dropFirst()).filter { $0.0 == "-k" }.map(\.1)
                    if !keys.isEmpty { rules.append(ShippedRule(location: "\(file):\(index + 1)", keys: keys, comment: comment)) }
                }
            }
        }
        return rules
    }

    @Test("every keyed rule of Rules/ has its ATT&CK choice explained above it, naming each technique its keys tag")
    func shippedRulesExplained() throws {
        let rules = try Self.shippedRules()
        try #require(rules.count > 30)
        for rule in rules {
            #expect(rule.comment.contains("ATT&CK:"), "\(rule.location): no ATT&CK comment in its paragraph")
            for id in Self.ids(rule.keys) {
                #expect(rule.comment.contains(id), "\(rule.location): \(id) is not explained")
            }
        }
        // The sets tag what they cover: identity, injection, tampering, container administration.
        let tagged = Set(rules.flatMap { Self.ids($0.keys) })
        #expect(tagged.isSuperset(of: ["T1098", "T1055.008", "T1562.012", "T1609", "T1620", "T1547.006"]), "\(tagged.sorted())")
    }
}
