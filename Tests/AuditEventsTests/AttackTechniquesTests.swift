import AuditEvents
import AuditRecords
import Testing

@Suite("ATT&CK technique ids in rule keys")
struct AttackTechniquesTests {
    @Test("ids at the start or after a separator, with their sub-technique; not inside words or longer numbers", arguments: [
        ("T1059", ["T1059"]), ("T1059.004", ["T1059.004"]), ("T1078_Valid_Accounts", ["T1078"]),
        ("mitre-T1548.001,T1222", ["T1548.001", "T1222"]), ("T1059.x", ["T1059"]), ("T1059.00", ["T1059"]),
        ("aT1059", []), ("T10590", []), ("T105", []), ("T1003.0011", []), ("CVE-2021-T12345", []), ("t1059", []), ("", []),
    ])
    func ids(key: String, expected: [String]) {
        #expect(AttackTechniques.ids(in: [Array(key.utf8)[...]]).map(\.utf8String) == expected)
        #expect(Array(key.utf8).withUnsafeBufferPointer { AttackTechniques.occur(in: $0) } == !expected.isEmpty)
    }

    @Test("an id named by two keys is listed once, in first-seen order")
    func once() {
        let keys = ["T1222_perm", "T1059,T1222"].map { Array($0.utf8)[...] }
        #expect(AttackTechniques.ids(in: keys).map(\.utf8String) == ["T1222", "T1059"])
    }
}
