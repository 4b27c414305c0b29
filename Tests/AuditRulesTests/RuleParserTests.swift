import AuditRules
import Testing

@Suite("Rule files: parsing and errors with file:line")
struct RuleParserTests {
    @Test("words split on blanks, with backslash-escaped spaces")
    func tokenizer() {
        #expect(RuleLineTokenizer.words("-w /etc/my\\ dir -p wa\t-k key") == ["-w", "/etc/my dir", "-p", "wa", "-k", "key"])
        #expect(RuleLineTokenizer.words("   ") == [])
        #expect(RuleLineTokenizer.words("-a always,exit  -S open") == ["-a", "always,exit", "-S", "open"])
        // Scalars, not graphemes (found by Scripts/fuzz): a combining mark after a blank
        // does not glue two words, and an escaped tab or CR stays in its word.
        #expect(RuleLineTokenizer.words("-k a \u{301}b") == ["-k", "a", "\u{301}b"])
        #expect(RuleLineTokenizer.words("-w /a\\\rs") == ["-w", "/a\rs"])
    }

    @Test("a file with CRLF line ends parses line by line")
    func crlf() {
        let (statements, errors) = RuleFileParser.parse("-w /etc/passwd -p wa -k identity\r\n-b 8192\r\n", file: "windows.rules")
        #expect(errors.isEmpty, "\(errors)")
        #expect(statements.map(\.source.line) == [1, 2])
    }

    @Test("comments, blank lines and every statement kind")
    func statements() {
        let text = """
            # a comment
            -D

            -b 8192
            --backlog_wait_time 60000
            --backlog_wait_time=0
            -f 1
            -r 100
            -e 1
            --reset-lost
            -c
            -a always,exit -F arch=b64 -S execve -k exec
            -A exit,never -F arch=b64 -S getpid
            -d always,exit -F arch=b64 -S ptrace
            -w /etc/passwd -p wa -k identity -k users
            -W /etc/shadow
            -D -k old
            """
        let (statements, errors) = RuleFileParser.parse(text, file: "t.rules")
        #expect(errors.isEmpty)
        #expect(statements.map(\.source.line) == [2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17])
        #expect(statements[1].statement == .setting(.backlogLimit(8192)))
        #expect(statements[3].statement == .setting(.backlogWaitTime(0)))
        guard case .add(let spec, let prepend) = statements[9].statement else {
            Issue.record("expected an add")
            return
        }
        #expect(!prepend)
        #expect(spec.parts == [.field("arch=b64"), .syscalls("execve"), .key("exec")])
        guard case .add(_, true) = statements[10].statement else {
            Issue.record("-A should prepend")
            return
        }
        guard case .add(let watch, false) = statements[12].statement else {
            Issue.record("expected a watch")
            return
        }
        #expect(watch.parts == [.watch("/etc/passwd"), .permissions("wa"), .key("identity"), .key("users")])
        #expect(statements[13].statement == .delete(RuleSpec(list: 4, action: 2, parts: [.watch("/etc/shadow")])))
        #expect(statements[14].statement == .deleteAll(key: "old"))
    }

    @Test("each malformed line is reported with its line, and good lines still parse", arguments: [
        ("-a always,exit -F arch=b64 -S execve", nil),
        ("-a exit,sometimes -S open", "unknown list or action in 'exit,sometimes'"),
        ("-a always", "should be LIST,ACTION"),
        ("-a always,exit,now", "should be LIST,ACTION"),
        ("-a possible,exit", "'possible' action is deprecated"),
        ("-F uid=0", "-F needs -a, -A or -d before it"),
        ("-w etc/passwd -p wa", "must start with '/'"),
        // Found by Scripts/fuzz: a relative -F path= encoded, then listed as a -w that did not parse.
        ("-a always,exit -F perm=x -F path=usr/bin/cpan", "must start with '/'"),
        ("-a always,exit -F dir=tmp -F perm=w", "must start with '/'"),
        // Found by Scripts/fuzz: a combining mark after `=` hid the field from a
        // character-wise check, and libaudit took the relative path.
        ("-a always,exit -F perm=x -F path=\u{30A}usr/bin/pip", "must start with '/'"),
        // Found by Scripts/fuzz: libaudit takes field names in any case.
        ("-a always,exit -F dir=/srv -F Dir=relative", "must start with '/'"),
        // Found by Scripts/fuzz: a second path field with another operator.
        ("-w /etc/group -p wa -F dir>=10k", "-F dir takes only '='"),
        // Found by Scripts/fuzz: libaudit cut the path at the NUL, past the length checks.
        ("-w /etc\u{0}/sudoers -p wa", "cannot contain a NUL byte"),
        ("-w /etc/passwd -p rz", "-p takes permissions from r, w, x and a"),
        ("-p wa", "-p needs a watch (-w) before it"),
        ("-a always,exit -w /etc/passwd", "cannot be combined with -a"),
        ("-a always,exit -S open -a always,exit", "only one of -a, -A, -d, -w or -W"),
        ("-e 3", "-e takes 0 (disable), 1 (enable) or 2 (lock)"),
        ("-f 9", "-f takes 0 (silent), 1 (printk) or 2 (panic)"),
        ("-b lots", "-b takes a number"),
        ("-r -5", "-r takes a number"),
        ("--backlog_wait_time", "--backlog_wait_time needs a value"),
        ("-k lonely", "-k needs a rule"),
        ("-a always,exclude -S open", "cannot be audited on the exclude list"),
        ("-a always,task -S open", "cannot be audited on the task list"),
        ("-l", "command of auditctl, not a rule"),
        ("-R other.rules", "cannot be nested"),
        ("--signal TERM", "not an option of audit rule files"),
        ("-x", "unknown option -x"),
        ("always,exit", "is not an option"),
        ("-D -S open", "-D takes only -k KEY"),
        ("-S open", "need -a, -A, -d or -w on the same line"),
        ("-a always,exit -S open -k \(String(repeating: "k", count: 257))", "longer than 256 bytes"),
    ] as [(String, String?)])
    func malformed(line: String, message: String?) {
        let text = "# header\n-b 100\n\(line)\n-a always,exit -F arch=b64 -S ptrace -k ok\n"
        let (statements, errors) = RuleFileParser.parse(text, file: "bad.rules")
        if let message {
            #expect(errors.count == 1)
            #expect(errors.first?.source.line == 3)
            #expect(errors.first?.description.hasPrefix("bad.rules:3: ") == true)
            #expect(errors.first?.message.contains(message) == true, "got: \(errors.first?.message ?? "no error")")
            #expect(statements.map(\.source.line) == [2, 4])
        } else {
            #expect(errors.isEmpty)
        }
    }
}
