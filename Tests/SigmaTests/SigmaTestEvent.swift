import Sigma

/// An event as a map of Sigma field names to values, for the matcher's tests.
struct SigmaTestEvent: SigmaEvent {
    var fields: [String: [String]]

    init(_ fields: [String: [String]]) { self.fields = fields }
    init(_ fields: [String: String]) { self.fields = fields.mapValues { [$0] } }

    func anyValue(of field: Int, _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool? {
        guard let values = fields[SigmaFields.all[field]] else { return nil }
        return values.contains { value in Array(value.utf8).withUnsafeBufferPointer(visit) }
    }

    func anyKeywordValue(_ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        fields.values.joined().contains { value in Array(value.utf8).withUnsafeBufferPointer(visit) }
    }
}

enum SigmaTestRules {
    /// Loads one rule from text; fails the test when it is refused.
    static func rule(_ text: String, file: String = "test.yml") throws -> SigmaRule {
        let loaded = SigmaLoader.load(text, file: file)
        if let refusal = loaded.refusals.first { throw refusal }
        guard loaded.rules.count == 1 else { throw SigmaError(line: 0, column: 0, construct: "test", message: "\(loaded.rules.count) rules") }
        return loaded.rules[0]
    }

    /// A process_creation rule whose detection is `detection` (indented by the caller's
    /// lines, four spaces).
    static func processCreation(_ detection: String, level: String = "high") -> String {
        """
        title: test rule
        id: 5f0c2a62-0000-4000-8000-000000000001
        level: \(level)
        tags: [attack.execution, attack.t1059]
        logsource:
            product: linux
            category: process_creation
        detection:
        \(detection)
        """
    }
}
