import AuditRecords
import Testing
import TestSupport

@Suite("Record parsing: audit.log lines and netlink payloads")
struct RecordParserTests {
    @Test("a RAW SYSCALL line gives type, stamp and fields")
    func rawSyscallLine() throws {
        let record = try Fixtures.record(try Fixtures.line("type=SYSCALL", ":11):"))
        #expect(record.type == .syscall)
        #expect(record.typeName == "SYSCALL")
        #expect(record.stamp == AuditStamp(seconds: 1_795_576_083, milliseconds: 845, serial: 11))
        #expect(record.node == nil)
        #expect(record.unsigned("pid") == 4288)
        #expect(record.unsigned("syscall") == 42)
        #expect(record.signed("exit") == -111)
        #expect(record.hexadecimal("arch") == 0xc000_003e)
        #expect(record.word("success")?.utf8String == "no")
        #expect(record.string("comm")?.utf8String == "python3.11")
        #expect(!record.hasInterpretations)
        #expect(record.text.utf8String.hasPrefix("arch=c000003e syscall=42 "))
    }

    @Test("a node= prefix names the machine and is not a field")
    func nodePrefix() throws {
        let line = "node=worker-1 " + (try Fixtures.line("type=CWD", ":13):"))
        let record = try Fixtures.record(line)
        #expect(record.node?.utf8String == "worker-1")
        #expect(record.type == .cwd)
        #expect(record.string("cwd")?.utf8String == "/work/main")
        #expect(record.fieldCount == 1)
    }

    @Test("ENRICHED interpretations after 0x1d are kept apart, braces included")
    func enrichedInterpretations() throws {
        let lines = try Fixtures.lines(ofFile: Fixtures.corpusFile("exec-net-login.enriched.log"))
        let saddrLine = try #require(lines.first { $0.contains("type=SOCKADDR") && $0.contains("saddr_fam=inet ") })
        let record = try Fixtures.record(saddrLine)
        #expect(record.raw("saddr")?.utf8String == "020000097F0000010000000000000000")
        #expect(record.fieldCount == 1)
        #expect(record.interpretation("SADDR")?.utf8String == "{ saddr_fam=inet laddr=127.0.0.1 lport=9 }")
        #expect(record.interpretationText?.utf8String == "SADDR={ saddr_fam=inet laddr=127.0.0.1 lport=9 }")

        let syscallLine = try #require(lines.first { $0.contains("type=SYSCALL") && $0.contains("syscall=59") })
        let syscall = try Fixtures.record(syscallLine)
        #expect(syscall.interpretation("SYSCALL")?.utf8String == "execve")
        #expect(syscall.interpretation("AUID").flatMap(UntrustedString.decode)?.utf8String == "unset")
        #expect(syscall.interpretation("UID").flatMap(UntrustedString.decode)?.utf8String == "root")
        #expect(syscall.raw("uid")?.utf8String == "0")
    }

    @Test("the inner msg='…' of a user-space record is flattened into fields")
    func userMessageFields() throws {
        let lines = try Fixtures.lines(ofFile: Fixtures.corpusFile("exec-net-login.raw.log"))
        let auth = try Fixtures.record(try #require(lines.first { $0.hasPrefix("type=USER_AUTH") }))
        #expect(auth.unsigned("pid") != nil)
        #expect(auth.word("op")?.utf8String == "PAM:authentication")
        #expect(auth.word("grantors")?.utf8String == "pam_rootok")
        #expect(auth.string("acct")?.utf8String == "nodeaudit-capture")
        #expect(auth.string("exe")?.utf8String == "/usr/bin/su")
        #expect(auth.string("hostname") == nil)  // hostname=?
        #expect(auth.word("res")?.utf8String == "success")
        #expect(auth.raw("msg") == nil)

        // useradd writes an operation with a space in it: "op=adding group".
        let group = try Fixtures.record(try #require(lines.first { $0.hasPrefix("type=ADD_GROUP") }))
        #expect(group.word("op")?.utf8String == "adding group")
        #expect(group.string("acct")?.utf8String == "nodeaudit-capture")
    }

    @Test("a netlink payload parses like the log line auditd wrote from it")
    func netlinkPayload() throws {
        let line = try Fixtures.line("type=SOCKADDR", ":12):")
        // auditd writes "type=NAME msg=" + the kernel's payload; take the payload back.
        let marker = try #require(line.range(of: "msg="))
        let text = String(line[marker.upperBound...])
        var bytes = Array(text.utf8)
        bytes.append(0)  // the kernel may count a trailing NUL
        let record = try bytes.withUnsafeBytes { try RecordParser.parseNetlink(type: 1306, payload: $0) }
        let fromLog = try Fixtures.record(line)
        #expect(record.type == .sockaddr)
        #expect(record.stamp == fromLog.stamp)
        #expect(record.raw("saddr") == fromLog.raw("saddr"))
        #expect(record.text == fromLog.text)
    }

    @Test("unknown type numbers and names are kept, not dropped")
    func unknownTypes() throws {
        let line = try Fixtures.line("type=CWD", ":13):")
        let numbered = try Fixtures.record(line.replacingOccurrences(of: "type=CWD", with: "type=UNKNOWN[1999]"))
        #expect(numbered.type.number == 1999)
        #expect(numbered.typeName == "UNKNOWN[1999]")
        let newer = try Fixtures.record(line.replacingOccurrences(of: "type=CWD", with: "type=FUTURE_RECORD"))
        #expect(newer.type.number == 0)
        #expect(newer.typeName == "FUTURE_RECORD")
        #expect(newer.string("cwd")?.utf8String == "/work/main")
    }

    @Test("malformed lines are rejected with a reason", arguments: [
        ("", RecordParseError.emptyLine),
        ("msg=audit(1795576083.845:13): cwd=\"/\"", .missingType),
        ("type=CWD cwd=\"/\"", .missingStamp),
        ("type=CWD msg=audit(1795576083:13): cwd=\"/\"", .malformedStamp("1795576083:13")),
        ("type=CWD msg=audit(1795576083.84:13): cwd=\"/\"", .malformedStamp("1795576083.84:13")),
        ("type=CWD msg=audit(1795576083.845:): cwd=\"/\"", .malformedStamp("1795576083.845:")),
        ("type=cwd! msg=audit(1795576083.845:13): cwd=\"/\"", .unknownType("cwd!")),
    ])
    func malformed(line: String, expected: RecordParseError) {
        #expect(throws: expected) { try RecordParser.parseLogLine(Array(line.utf8)) }
    }

    @Test("stamps read one after another by one reader come out as each read alone")
    func stampsReadInSequence() {
        // Repeats, neighbours that share a prefix, lengths that change by a digit, texts
        // too short or too long to be remembered, and broken stamps after good ones.
        let texts = [
            "1795576083.845:13)", "1795576083.845:13)", "1795576083.845:14)", "1795576083.845:139)",
            "1795576083.845:13)", "1795576083.845:1)", "1795576083.846:13)", "1795576084.845:13)",
            "1795576083.845:9999)", "1795576083.845:10000)", "1795576083.845:10000)", "1.000:1)", "1.000:1)",
            "1795576083.845:1000000000000000000)", "1795576083.845:1000000000000000000)",
            "1795576083845:13)", "1795576083.845:13", "1795576083.845:13)", "1795576083.845:13x)",
            "1795576083.845:13)", "1795576083.845:130)", "1795576083.845:13)", "1795576083.84:13)",
        ]
        var stamps = StampReader()
        for text in texts {
            let line = Array("type=CWD msg=audit(\(text): cwd=\"/\"".utf8)
            let alone = Result { () throws(RecordParseError) in try RecordParser.parseLogLine(line).stamp }
            let inSequence = line.withUnsafeBufferPointer { bytes in
                Result { () throws(RecordParseError) in try RecordParser.parseLogLine(bytes, stamps: &stamps).stamp }
            }
            #expect(inSequence == alone, "audit(\(text)")
            let eoe = Array("audit(\(text): ".utf8)
            let eoeAlone = eoe.withUnsafeBytes { payload in
                Result { () throws(RecordParseError) in try RecordParser.parseEndOfEvent(payload: payload) }
            }
            let eoeInSequence = eoe.withUnsafeBytes { payload in
                Result { () throws(RecordParseError) in try RecordParser.parseEndOfEvent(payload: payload, stamps: &stamps) }
            }
            #expect(eoeInSequence == eoeAlone, "EOE audit(\(text)")
            #expect((try? eoeAlone.get()) == (try? alone.get()))
        }
        #expect(texts.filter { (try? RecordParser.parseLogLine(Array("type=CWD msg=audit(\($0): cwd=x".utf8))) == nil }.count == 4)
    }

    @Test("record type names come from libaudit")
    func recordTypeNames() {
        #expect(RecordType.syscall.name == "SYSCALL")
        #expect(RecordType.execve.name == "EXECVE")
        #expect(RecordType.endOfEvent.name == "EOE")
        #expect(RecordType.proctitle.name == "PROCTITLE")
        #expect(RecordType.login.name == "LOGIN")
        #expect(RecordType.tty.name == "TTY")
        #expect(RecordType.userTTY.name == "USER_TTY")
        #expect(RecordType.configChange.name == "CONFIG_CHANGE")
        #expect(RecordType.sockaddr.name == "SOCKADDR")
        #expect(RecordType(name: Array("USER_LOGIN".utf8)[...])?.number == 1112)
        #expect(RecordType(number: 1112).role == .standalone)
        #expect(RecordType.path.role == .part)
    }
}
