import AuditEvents
import AuditRecords
import Testing

@Suite("ATT&CK technique ids in rule keys")
struct AttackTechniquesTests {
    /// The ids `keys` name, read as an event's text holds them.
    static func ids(_ keys: [String]) -> [String] {
        var text = EventText()
        let ranges = keys.map { text.append(Array($0.utf8)[...]) }
        return text.bytes.withUnsafeBufferPointer { bytes in
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
}
