import Foundation
import Pipeline
import Testing
import TestSupport

/// Every string in an event is written by somebody who may want to forge output: argv,
/// comm, exe, cwd, path names, keys, user-space message fields. Whatever bytes they hold,
/// an event is one line and one JSON object, and the decoded text is exactly theirs.
@Suite("Output injection: one event, one line, one object")
struct OutputInjectionTests {
    /// Texts an attacker would try, as raw bytes.
    static let hostile: [(name: String, bytes: [UInt8], decoded: String)] = [
        ("quotes", Array(#"a"b\"c"#.utf8), #"a"b\"c"#),
        ("newline and JSON", Array("x\"}\n{\"forged\":true,\"y\":\"".utf8), "x\"}\n{\"forged\":true,\"y\":\""),
        ("terminal escapes", Array("\u{1b}[2J\u{1b}]0;title\u{07}".utf8), "\u{1b}[2J\u{1b}]0;title\u{07}"),
        ("invalid UTF-8", [0x61, 0xff, 0xc3, 0x28, 0xed, 0xa0, 0x80, 0x62], "a\u{fffd}\u{fffd}(\u{fffd}\u{fffd}\u{fffd}b"),
        ("NUL and DEL", [0x61, 0x00, 0x7f, 0x62], "a\u{0}\u{7f}b"),
        ("carriage return and tab", Array("a\r\tb\u{2028}c".utf8), "a\r\tb\u{2028}c"),
    ]

    static func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02X", $0) }.joined() }

    @Test("hostile bytes in every attacker-controlled field", arguments: hostile.indices)
    func hostileField(_ index: Int) throws {
        let (_, bytes, decoded) = Self.hostile[index]
        let h = Self.hex(bytes)
        let stamp = "msg=audit(1800000000.100:7):"
        let log = """
            type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=7 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm=\(h) exe=\(h) key=\(h)
            type=EXECVE \(stamp) argc=2 a0=\(h) a1=\(h)
            type=CWD \(stamp) cwd=\(h)
            type=PATH \(stamp) item=0 name=\(h) inode=1 dev=fe:00 mode=0100755 ouid=0 ogid=0 rdev=00:00 nametype=NORMAL
            type=PROCTITLE \(stamp) proctitle=\(h)
            type=USER_LOGIN msg=audit(1800000000.200:8): pid=9 uid=0 auid=0 ses=2 msg='op=login acct=\(h) exe="/usr/sbin/sshd" hostname=? addr=? terminal=ssh res=failed'

            """
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-injection-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: file) }
        try log.write(to: file, atomically: true, encoding: .utf8)

        let result = try NodeAuditBinary.run(["parse", "--quiet", "--records", file.path])
        try #require(result.status == 0, "\(result.stderr)")
        let lines = result.stdout.split(separator: UInt8(ascii: "\n"))
        #expect(lines.count == 2, "one line per event")
        #expect(!result.stdout.contains { $0 < 0x20 && $0 != UInt8(ascii: "\n") }, "a raw control byte in the output")
        #expect(String(data: result.stdout, encoding: .utf8) != nil, "the output is not UTF-8")
        let events = try Command.jsonLines(result.stdout)
        #expect(events.count == 2)
        #expect(!events.contains { $0["forged"] != nil })

        let process = try #require(events.first?["process"] as? [String: Any])
        #expect(process["comm"] as? String == decoded)
        #expect(process["exe"] as? String == decoded)
        #expect(process["cwd"] as? String == decoded)
        #expect(process["argv"] as? [String] == [decoded, decoded])
        #expect(events.first?["keys"] as? [String] == [decoded])
        #expect(((events.first?["paths"] as? [[String: Any]])?.first)?["name"] as? String == decoded)
        let message = try #require(events.last?["login"] as? [String: Any])
        #expect(message["account"] as? String == decoded, "\(message)")
    }
}
