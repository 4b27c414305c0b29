import AuditRecords
import Enrichment
import Testing

@Suite("Account names from passwd and group files")
struct AccountNamesTests {
    @Test("every id of a file finds its first name, and no other id finds one")
    func lookups() {
        // Unsorted ids, a duplicate id (the first name wins, as in getpwuid), comments,
        // lines too short or with ids that are no number, and the largest id.
        var lines = [
            "root:x:0:0:root:/root:/bin/bash", "# a comment:x:7:7", "daemon:x:1:1::/:/usr/sbin/nologin",
            "toor:x:0:0:second root:/root:/bin/sh", "broken:x", "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin",
            "letters:x:12a:1", "negative:x:-3:1", "max:x:4294967295:1", "over:x:4294967296:1", ":x:9:9",
        ]
        var expected: [UInt32: String] = [0: "root", 1: "daemon", 65534: "nobody", 4_294_967_295: "max"]
        for id in stride(from: 1000, to: 1400, by: 7) {
            lines.append("user\(id):x:\(id):\(id)::/home/user\(id):/bin/sh")
            expected[UInt32(id)] = "user\(id)"
        }
        lines.swapAt(3, 20)
        let names = AccountNames(parsing: Array(lines.joined(separator: "\n").utf8))
        #expect(names.count == expected.count)
        var probes: [UInt32] = [2, 3, 9, 999, 65533, 65535, 4_294_967_294]
        for id in expected.keys { probes += [id, id &+ 1, id &- 1] }
        for id in probes {
            #expect(names[id].map { String(decoding: $0, as: UTF8.self) } == expected[id], "id \(id)")
        }
        #expect(AccountNames()[0] == nil)
    }
}
