import AuditRules
import Testing

@Suite("Rule encoding through libaudit, canonical form, and plans")
struct RuleEncodingTests {
    /// Encodes one rule line and returns its canonical text.
    private func canonical(_ line: String) throws -> String {
        try RuleFormatter.text(encode(line).data)
    }

    private func encode(_ line: String) throws -> EncodedRule {
        let (statements, errors) = RuleFileParser.parse(line, file: "t.rules")
        try #require(errors.isEmpty, "\(errors)")
        let wanted = try WantedRules(statements, allowImmutable: false)
        return try #require(wanted.rules.first)
    }

    private func encodingError(_ line: String) -> String? {
        let (statements, errors) = RuleFileParser.parse(line, file: "t.rules")
        if let error = errors.first { return error.message }
        do {
            _ = try WantedRules(statements, allowImmutable: false)
            return nil
        } catch {
            return error.errors.first?.message
        }
    }

    @Test("rules are shown as auditctl -l shows them", arguments: [
        ("-a always,exit -F arch=b64 -S execve,execveat -k exec", "-a always,exit -F arch=b64 -S execve,execveat -F key=exec"),
        ("-w /etc/sudoers.d/ -p wa -k identity", "-w /etc/sudoers.d -p wa -k identity"),
        ("-w /etc/passwd", "-w /etc/passwd -p rwxa"),
        ("-a always,exit -F arch=b64 -S socket -F a0=10 -k net", "-a always,exit -F arch=b64 -S socket -F a0=0xA -F key=net"),
        ("-a always,exit -F arch=b64 -S mmap -F a2&0x4 -k m", "-a always,exit -F arch=b64 -S mmap -F a2&0x4 -F key=m"),
        ("-a always,exit -F arch=b32 -S open -F exit=-EACCES -F auid>=1000 -F auid!=unset -k a",
         "-a always,exit -F arch=b32 -S open -F exit=-EACCES -F auid>=1000 -F auid!=-1 -F key=a"),
        ("-a always,exclude -F msgtype=CRYPTO_KEY_USER", "-a always,exclude -F msgtype=CRYPTO_KEY_USER"),
        ("-a always,exit -F dir=/home -F uid=0 -C auid!=obj_uid -k p", "-a always,exit -S all -F dir=/home -F uid=0 -C auid!=obj_uid -F key=p"),
        ("-a never,exit -F arch=b64 -S 15", "-a never,exit -F arch=b64 -S rt_sigreturn"),
    ])
    func canonicalText(line: String, expected: String) throws {
        #expect(try canonical(line) == expected)
    }

    @Test("two spellings of one kernel rule are one rule", arguments: [
        ("-a always,exit -F arch=b64 -S open,openat -k k", "-a exit,always -F arch=b64 -S openat -S open -F key=k"),
        ("-a always,exit -F arch=b64 -S open -F uid=root -k k", "-a always,exit -F arch=b64 -S open -F uid=0 -k k"),
        ("-w /etc/audit/ -p wa -k a", "-w /etc/audit -p aw -k a"),
        ("-a always,exit -F arch=b64 -S execve -k a -k b", "-a always,exit -F arch=b64 -S execve -F key=a -k b"),
    ])
    func equivalentSpellings(a: String, b: String) throws {
        #expect(try canonical(a) == canonical(b))
    }

    // Found by Scripts/fuzz: a watch path ending in a backslash was listed as text that
    // read back as a different rule.
    @Test("paths and keys with blanks or backslashes are written so that they read back as the same rule", arguments: [
        #"-w /etc/cr\\ -p wa -k runtime_config"#,
        #"-w /etc/my\ dir -p wa -k my\ key"#,
        #"-a always,exit -F arch=b64 -S openat -F dir=/srv/a\ b -F key=k\\1"#,
        "-w /a\\\\\\\rs -p wa",
    ])
    func textReadsBack(line: String) throws {
        let text = try canonical(line)
        #expect(text == line)
        #expect(try canonical(text) == text)
    }

    @Test("what only libaudit can tell is still an error with its line", arguments: [
        ("-a always,exit -F arch=b64 -S notasyscall", "unknown syscall"),
        ("-a always,exit -F arch=b64 -S open -F nosuchfield=1", "unknown field"),
        ("-a always,exit -S open -F arch=b64", "must come before -S"),
        ("-a always,exit -F arch=b64 -S open -F uid=no-such-user-here", "unknown user or group"),
        ("-a always,exit -F uid=0 -k k", "a key needs a watch, a syscall"),
        ("-a always,exit -F arch=b64 -S open -F msgtype=EXECVE", "exclude list"),
        ("-a always,exit -F arch=b64 -S open -F exit=-ENOTANERRNO", "unknown errno"),
    ])
    func encodingErrors(line: String, message: String) {
        let error = encodingError(line)
        #expect(error?.contains(message) == true, "got: \(error ?? "no error")")
    }

    @Test("-e 2 and --loginuid-immutable are refused unless allowed")
    func immutableNeedsOptIn() throws {
        for line in ["-e 2", "--loginuid-immutable"] {
            let (statements, errors) = RuleFileParser.parse(line, file: "lock.rules")
            #expect(errors.isEmpty)
            #expect(throws: RuleFileErrors.self) { try WantedRules(statements, allowImmutable: false) }
            #expect(throws: Never.self) { try WantedRules(statements, allowImmutable: true) }
        }
    }

    @Test("a plan adds what is missing, removes only with -D or prune, and changes settings")
    func plan() throws {
        let wantedText = """
            -b 16384
            -e 1
            -a always,exit -F arch=b64 -S execve -k exec
            -w /etc/passwd -p wa -k identity
            -a always,exit -F arch=b64 -S ptrace -k ptrace
            """
        let wanted = try WantedRules(RuleFileParser.parse(wantedText, file: "w.rules").statements, allowImmutable: false)
        let current = try [
            "-a always,exit -F arch=b64 -S execve -F key=exec",
            "-a always,exit -F arch=b64 -S getpid -k other_tool",
        ].map { try encode($0).data }
        func setting(_ s: StatusSetting) -> UInt32 { s.name == "backlog_limit" ? 64 : 0 }

        let plan = RulePlan(wanted: wanted, current: current, currentSetting: setting, prune: false)
        #expect(plan.lines == [
            "~ backlog_limit: 64 -> 16384",
            "+ -w /etc/passwd -p wa -k identity",
            "+ -a always,exit -F arch=b64 -S ptrace -F key=ptrace",
            "~ enabled: 0 -> 1",
        ])
        let pruned = RulePlan(wanted: wanted, current: current, currentSetting: setting, prune: true)
        #expect(pruned.deletions.map(\.text) == ["-a always,exit -F arch=b64 -S getpid -F key=other_tool"])

        let keyed = try WantedRules(RuleFileParser.parse("-D -k other_tool\n" + wantedText, file: "k.rules").statements,
                                    allowImmutable: false)
        let keyedPlan = RulePlan(wanted: keyed, current: current, currentSetting: setting, prune: false)
        #expect(keyedPlan.deletions.map(\.text) == ["-a always,exit -F arch=b64 -S getpid -F key=other_tool"])

        let satisfied = try [
            "-a always,exit -F arch=b64 -S execve -k exec", "-w /etc/passwd -p wa -k identity",
            "-a always,exit -F arch=b64 -S ptrace -k ptrace",
        ].map { try encode($0).data }
        let none = RulePlan(wanted: wanted, current: satisfied, currentSetting: { $0.name == "backlog_limit" ? 16384 : 1 }, prune: true)
        #expect(none.isEmpty)
    }
}
