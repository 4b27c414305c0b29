import AuditEvents
import AuditRecords
import Testing
import TestSupport

@Suite("Event interpretation")
struct EventInterpreterTests {
    private func event(_ serial: UInt64, file: String = "kernel-cases.raw.log") throws -> AuditEvent {
        let records = try Fixtures.event(serial: serial, in: file).map(Fixtures.record)
        let group = RecordGroup(key: EventKey(records[0]), records: records, closeReason: .lastRecord)
        return EventInterpreter(argvByteLimit: 65536).interpret(group)
    }

    private func corpusEvent(_ file: String, where predicate: (String) -> Bool) throws -> AuditEvent {
        let lines = try Fixtures.lines(ofFile: Fixtures.corpusFile(file))
        let match = lines.first(where: predicate)
        let first = try #require(match)
        let stampEnd = try #require(first.range(of: "):"))
        let stamp = String(first[first.range(of: "audit(")!.upperBound..<stampEnd.lowerBound])
        let records = try lines.filter { $0.contains("audit(\(stamp)):") }.map(Fixtures.record)
        return EventInterpreter(argvByteLimit: 65536).interpret(RecordGroup(key: EventKey(records[0]), records: records, closeReason: .flushed))
    }

    @Test("an exec event: process, argv, cwd, syscall, paths, key")
    func exec() throws {
        let e = try event(8)
        #expect(e.category == .exec)
        #expect(e.strings(e.keys) == ["nodeaudit_fixture"])
        let process = try #require(e.process)
        #expect(process.pid == 4286)
        #expect(process.ppid == 4238)
        #expect(e.string(process.comm) == "tru e")
        #expect(e.string(process.exe) == "/tmp/nodeaudit-fixture-dir/tru e")
        #expect(e.string(process.cwd) == "/work/main")
        #expect(process.tty == nil)
        #expect(process.session == nil)
        #expect(process[.auid]?.isUnset == true)
        #expect(process[.uid]?.id == 0)
        #expect(e.strings(process.title) == ["/tmp/nodeaudit-fixture-dir/tru e", "arg"])
        #expect(e.strings(e.exec?.argv) == ["/tmp/nodeaudit-fixture-dir/tru e", "arg"])
        #expect(e.exec?.argc == 2)
        let syscall = try #require(e.syscall)
        #expect(syscall.name == "execve")
        #expect(syscall.archName == "x86_64")
        #expect(syscall.success == true)
        #expect(syscall.errnoName == nil)
        #expect(e.paths.count == 2)
        #expect(e.string(e.paths[0].name) == "/tmp/nodeaudit-fixture-dir/tru e")
        #expect(e.string(e.paths[0].nametype) == "NORMAL")
        #expect(e.string(e.paths[0].mode) == "0100755")
    }

    @Test("several keys on one rule are split")
    func multipleKeys() throws {
        let e = try event(9)
        #expect(e.strings(e.keys) == ["nodeaudit_fixture_a", "nodeaudit_fixture_b"])
        #expect(e.category == .file)
        #expect(e.syscall?.name == "openat")
    }

    @Test("a failed connect names its errno and decodes the address")
    func failedConnect() throws {
        let e = try event(13)
        #expect(e.category == .network)
        #expect(e.syscall?.success == false)
        #expect(e.syscall?.exit == -2)
        #expect(e.syscall?.errnoName == "ENOENT")
        #expect(e.socketAddress == .unix(path: Array("/tmp/nodeaudit-fixture-dir/missing.sock".utf8)[...], isAbstract: false))
    }

    @Test("a PAM record becomes a login event with its message")
    func login() throws {
        let e = try corpusEvent("exec-net-login.raw.log") { $0.hasPrefix("type=USER_START") }
        #expect(e.category == .login)
        let message = try #require(e.message)
        #expect(e.string(message.operation) == "PAM:session_open")
        #expect(e.string(message.account) == "nodeaudit-capture")
        #expect(e.string(message.exe) == "/usr/bin/su")
        #expect(e.string(message.result) == "success")
        #expect(message.hostname == nil)
        #expect(e.process?.pid != nil)
    }

    @Test("ENRICHED names are attached to ids")
    func enrichedNames() throws {
        let e = try corpusEvent("exec-net-login.enriched.log") { $0.contains("type=SYSCALL") && $0.contains("syscall=59") }
        #expect(e.string(e.process?[.uid]?.name) == "root")
        #expect(e.string(e.process?[.auid]?.name) == "unset")
        #expect(e.string(e.paths.first?.owner?.name) == "root")
    }

    @Test("a CONFIG_CHANGE with its syscall is a config event")
    func configChange() throws {
        let e = try corpusEvent("exec-net-login.raw.log") { $0.hasPrefix("type=CONFIG_CHANGE") }
        #expect(e.category == .config)
        #expect(e.syscall != nil)
        #expect(e.string(e.process?.exe) == "/usr/sbin/auditd")
    }

    @Test("categories from record types and syscall names", arguments: [
        (["SYSCALL", "PATH"], "mmap", EventCategory.memory),
        (["SYSCALL"], "unshare", .namespace),
        (["SYSCALL"], "ptrace", .process),
        (["SYSCALL"], "setsockopt", .network),
        (["SYSCALL"], "setresuid", .privilege),
        (["SYSCALL"], "finit_module", .module),
        (["SYSCALL", "PATH"], "mount", .mount),
        (["SYSCALL", "PATH"], "openat", .file),
        (["ADD_USER"], nil, .account),
        (["USER_LOGIN"], nil, .login),
        (["USER_TTY"], nil, .tty),
        (["DAEMON_START"], nil, .daemon),
        (["SYSCALL"], "getpid", .other),
    ] as [([String], String?, EventCategory)])
    func categories(types: [String], syscall: String?, expected: EventCategory) throws {
        let records = try types.map { try RecordParser.parseLogLine(Array("type=\($0) msg=audit(1.000:1): pid=1".utf8)) }
        #expect(EventCategory.classify(records: records, syscallName: syscall) == expected)
    }
}
