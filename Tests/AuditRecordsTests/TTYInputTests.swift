import AuditRecords
import Testing

@Suite("TTY input made readable")
struct TTYInputTests {
    @Test("text stays; control keys and escape sequences get names", arguments: [
        ("ls -la\r", "ls -la<ret>"),
        ("echo hi\n", "echo hi<ret>"),
        ("cd /tm\t\r", "cd /tm<tab><ret>"),
        ("rmm\u{7f}\r", "rmm<backspace><ret>"),
        ("\u{1b}[A\u{1b}[B\u{1b}[C\u{1b}[D\r", "<up><down><right><left><ret>"),
        ("\u{1b}[3~\u{1b}OA\u{1b}x", "<delete><up><esc>x"),
        ("\u{03}\u{04}\u{00}", "<^C><^D><^@>"),
        ("größe\r", "größe<ret>"),
    ])
    func readable(input: String, shown: String) {
        #expect(String(decoding: TTYInput.readable(Array(input.utf8)[...]), as: UTF8.self) == shown)
    }

    @Test("hex data of a TTY record decodes and reads")
    func fromRecord() throws {
        let record = try RecordParser.parseLogLine(Array(
            "type=TTY msg=audit(1795591426.100:7): tty pid=9 uid=1001 auid=1001 ses=3 major=136 minor=0 comm=\"sh\" data=6563686F2074797065640A".utf8))
        let data = try #require(record.string("data"))
        #expect(String(decoding: TTYInput.readable(data), as: UTF8.self) == "echo typed<ret>")
    }
}
