import AuditRules
import Foundation
import Testing

@Suite("Rule encoding through libaudit, canonical form, and plans")
struct RuleEncodingTests {
    /// Encodes one rule line and returns its canonical text.
    private func canonical(_ line: String) throws -> String {
        try RuleFormatter.text(encode(line).data)
    }

    /// Encodes one rule line as libaudit does; whether this host has its watched paths
    /// is not asked (that is `WantedRules`' check).
    private func encode(_ line: String, root: String = "") throws -> EncodedRule {
        let (statements, errors) = RuleFileParser.parse(line, file: "t.rules")
        try #require(errors.isEmpty, "\(errors)")
        let located = try #require(statements.first)
        guard case .add(let spec, let prepend) = located.statement else { throw InvalidRuleFileError(errors: []) }
        return try RuleEncoder.encode(spec, prepend: prepend, source: located.source, root: root)
    }

    @Test("with the node's root elsewhere (a pod's host mount), a watch is a directory watch when the directory is there, and a missing one is looked for there")
    func watchUnderHostRoot() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-hostroot-\(UUID().uuidString)")
        let name = "nodeaudit-only-on-the-node-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(at: root.appendingPathComponent(name), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let line = "-w /\(name)/ -p wa -k node"
        // The kernel's field types: AUDIT_WATCH 105 (a name), AUDIT_DIR 107 (a tree).
        func fields(_ rule: EncodedRule) -> [UInt32] { (0..<rule.data.fieldCount).map { rule.data.field($0) } }
        #expect(fields(try encode(line)).contains(105), "not there here: a watch on the name")
        #expect(fields(try encode(line, root: root.path)).contains(107), "there under the root: a directory watch")
        #expect(try encode(line, root: root.path).data.namesPath && encode(line).data.namesPath)

        let (statements, _) = RuleFileParser.parse("-w /\(name)/missing/file -p wa -k node", file: "t.rules")
        guard case .add(let spec, _) = try #require(statements.first).statement else { throw InvalidRuleFileError(errors: []) }
        #expect(RuleEncoder.missingWatchDirectory(spec) == "/\(name)/missing")
        #expect(RuleEncoder.missingWatchDirectory(spec, root: root.path) == "/\(name)/missing")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("\(name)/missing"), withIntermediateDirectories: true)
        #expect(RuleEncoder.missingWatchDirectory(spec, root: root.path) == nil)
        #expect(RuleEncoder.missingWatchDirectory(spec) == "/\(name)/missing")
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
            #expect(throws: InvalidRuleFileError.self) { try WantedRules(statements, allowImmutable: false) }
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

    /// Makes a plan's changes on a model of the kernel's lists, as the kernel would: a
    /// deletion removes, an addition goes to the end of its list or, prepended, its front.
    private func enacted(_ plan: RulePlan, on current: [AuditRuleData]) -> [String] {
        var lists = current.map { ($0.list, RuleFormatter.text($0)) }
        for step in plan.steps {
            switch step {
            case .delete(let deletion): lists.removeAll { $0.1 == deletion.text }
            case .add(let addition):
                let entry = (addition.rule.data.list, addition.text)
                if addition.rule.prepend { lists.insert(entry, at: 0) } else { lists.append(entry) }
            case .setting: break
            }
        }
        // The kernel lists rule by rule within each list, list after list.
        return lists.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element.1)
    }

    private func rules(_ lines: [String]) throws -> [AuditRuleData] { try lines.map { try encode($0).data } }

    @Test("a plan leaves the kernel's lists in the order auditctl -R would: -D, appends, prepends, rules already there")
    func planOrder() throws {
        let (a, b, c, d, x) = ("-a always,exit -F arch=b64 -S getpid -F key=a", "-a always,exit -F arch=b64 -S getppid -F key=b",
                               "-a always,exit -F arch=b64 -S getuid -F key=c", "-a always,exit -F arch=b64 -S getgid -F key=d",
                               "-a always,exit -F arch=b64 -S getsid -F key=x")
        let never = "-a never,exclude -F msgtype=CWD"
        let file = try WantedRules(RuleFileParser.parse(["-D", never, a, b, "-A" + c.dropFirst(2), d].joined(separator: "\n"),
                                                        file: "o.rules").statements, allowImmutable: false)
        // -D then the file's lines: c is prepended, the others appended; the exclude list apart.
        let expected = [c, a, b, d, never]
        for current in [[], [b, x, a], [a, b, d], [c, a, b, d], [d, c, a, b, never]] {
            let kernel = try rules(current)
            let plan = RulePlan(wanted: file, current: kernel, currentSetting: { _ in 0 }, prune: false)
            #expect(enacted(plan, on: kernel) == expected, "from \(current): \(plan.lines)")
        }
        // Already in order: nothing to do. One rule missing in the middle: the longest
        // run in order stays, the rest moves.
        #expect(RulePlan(wanted: file, current: try rules(expected), currentSetting: { _ in 0 }, prune: false).isEmpty)
        let gap = try rules([c, b, d, never])
        let repair = RulePlan(wanted: file, current: gap, currentSetting: { _ in 0 }, prune: false)
        #expect(enacted(repair, on: gap) == expected)
        #expect(repair.deletions.map(\.text) == [c])

        // Without -D the file's rules come after what the kernel holds, as with auditctl -R.
        let appended = try WantedRules(RuleFileParser.parse([a, b].joined(separator: "\n"), file: "p.rules").statements, allowImmutable: false)
        let kernel = try rules([x, b])
        #expect(enacted(RulePlan(wanted: appended, current: kernel, currentSetting: { _ in 0 }, prune: false), on: kernel) == [x, b, a])
    }

    @Test("sharing the kernel: other tools' rules stay in place even under -D, owned rules the files dropped go, the own exclusion stays first")
    func planOwnedScope() throws {
        let (a, b, old, foreign) = ("-a always,exit -F arch=b64 -S getpid -F key=a", "-a always,exit -F arch=b64 -S getppid -F key=b",
                                    "-a always,exit -F arch=b64 -S getuid -F key=old", "-w /etc/hosts -p wa -k other_tool")
        let exclusion = try encode("-A never,exit -F pid=4242")
        let exclusionText = RuleFormatter.text(exclusion.data)
        let file = try WantedRules(RuleFileParser.parse(["-D", a, b].joined(separator: "\n"), file: "s.rules").statements,
                                   allowImmutable: false)
        let kernel = try rules([exclusionText, a, foreign, old])
        let plan = RulePlan(wanted: file, current: kernel, currentSetting: { _ in 0 }, prune: false,
                            scope: .owned([a, old]), leading: exclusion)
        #expect(plan.deletions.map(\.text) == [old])
        #expect(plan.additions.map(\.text) == [b])
        #expect(enacted(plan, on: kernel) == [exclusionText, a, foreign, b])
        // As auditctl, -D would have removed the other tool's watch.
        let everything = RulePlan(wanted: file, current: kernel, currentSetting: { _ in 0 }, prune: false)
        #expect(enacted(everything, on: kernel) == [a, b])
    }

    @Test("-c and -i: a failing line after them is skipped and the rest load; host-dependent ones are warnings; before them, or without, nothing loads")
    func errorPolicy() throws {
        let text = """
            -a always,exit -F arch=b64 -S getpid -k first
            -i
            -a always,exit -F arch=b64 -S getppid -F auid=nosuchuser_nodeaudit -k user
            -a always,exit -F arch=b64 -S nosuchcall -k call
            -w /nonexistent_nodeaudit/x -p wa -k dir
            -k -F
            -a always,exit -F arch=b64 -S getuid -k last
            """
        let lines = RuleFileParser.parseLines(text, file: "i.rules")
        let wanted = try WantedRules(lines: lines, allowImmutable: false)
        #expect(wanted.rules.map { RuleFormatter.keys($0.data) } == [["first"], ["last"]])
        #expect(wanted.skipped.map(\.source.line) == [3, 4, 5, 6])
        #expect(wanted.skipped.map(\.dependsOnHost) == [true, true, true, false])
        #expect(wanted.warnings.filter(\.dependsOnHost).map(\.source.line) == [3, 4, 5])
        #expect(wanted.warnings.first { $0.source.line == 5 }?.message.contains("/nonexistent_nodeaudit") == true)
        #expect(wanted.errorPolicy == .ignoreErrors && !wanted.failedLines)

        let continuing = try WantedRules(lines: RuleFileParser.parseLines(text.replacing("-i", with: "-c"), file: "c.rules"),
                                         allowImmutable: false)
        #expect(continuing.skipped.count == 4 && continuing.failedLines)

        let strict = text.replacing("-i\n", with: "")
        #expect(throws: InvalidRuleFileError.self) { try WantedRules(lines: RuleFileParser.parseLines(strict, file: "s.rules"), allowImmutable: false) }
        // The policy holds from its line on: an error above it still stops everything.
        let late = "-k -F\n-c\n-a always,exit -F arch=b64 -S getpid -k a"
        #expect(throws: InvalidRuleFileError.self) { try WantedRules(lines: RuleFileParser.parseLines(late, file: "l.rules"), allowImmutable: false) }
    }

    @Test("a rule given twice is loaded once, with a warning naming the first")
    func duplicateRule() throws {
        let wanted = try WantedRules(RuleFileParser.parse("-w /etc/passwd -p wa -k id\n-w /etc/passwd/ -p aw -k id", file: "d.rules").statements,
                                     allowImmutable: false)
        #expect(wanted.rules.count == 1)
        #expect(wanted.warnings.map(\.description) == ["d.rules:2: the same rule as d.rules:1; the kernel holds it once"])
    }
}
