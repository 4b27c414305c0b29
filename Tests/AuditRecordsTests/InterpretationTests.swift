import AuditRecords
import Testing
import TestSupport

@Suite("Interpretation: argv, proctitle, sockaddr, syscall tables")
struct InterpretationTests {
    private func records(serial: UInt64, type: String) throws -> [AuditRecord] {
        try Fixtures.event(serial: serial).filter { $0.hasPrefix("type=\(type) ") }.map(Fixtures.record)
    }

    @Test("a 20000-byte argument split into aN[i] chunks over several EXECVE records is joined")
    func chunkedArgument() throws {
        let execve = try records(serial: 6, type: "EXECVE")
        #expect(execve.count > 1)
        var text = EventText()
        let arguments = ExecArguments(records: execve, byteLimit: 1 << 20, into: &text)
        #expect(arguments.argc == 3)
        #expect(arguments.argv.count == 3)
        #expect(text[arguments.argv[0]].utf8String == "/tmp/nodeaudit-fixture-dir/echo")
        #expect(arguments.argv[1].count == 20000)
        #expect(text[arguments.argv[1]].allSatisfy { $0 == UInt8(ascii: "y") })
        #expect(text[arguments.argv[2]].utf8String == "short")
        #expect(!arguments.isTruncated)
        #expect(arguments.malformedFields == 0)
    }

    @Test("argv beyond the byte limit is cut and the cut is counted")
    func argvLimit() throws {
        var text = EventText()
        let arguments = ExecArguments(records: try records(serial: 6, type: "EXECVE"), byteLimit: 100, into: &text)
        #expect(arguments.argv.count == 2)
        #expect(arguments.argv.reduce(0) { $0 + $1.count } == 100)
        #expect(arguments.omittedArguments == 1)
        #expect(arguments.omittedBytes == 31 + 20000 + 5 - 100)
        #expect(arguments.isTruncated)
    }

    @Test("plain and hex arguments mix in one record")
    func mixedArguments() throws {
        var text = EventText()
        let arguments = ExecArguments(records: try records(serial: 7, type: "EXECVE"), byteLimit: 1 << 20, into: &text)
        #expect(arguments.argv.map { text[$0].utf8String } == ["/tmp/nodeaudit-fixture-dir/echo", "quote\" newline\n esc\u{1b}[31m", "plain"])
    }

    @Test("PROCTITLE decodes to its NUL-separated argv")
    func proctitle() throws {
        var text = EventText()
        var malformed = false
        let title = try #require(ProcessTitle.argv(try records(serial: 8, type: "PROCTITLE")[0], into: &text, malformed: &malformed))
        #expect(!malformed)
        #expect(title.map { text[$0].utf8String } == ["/tmp/nodeaudit-fixture-dir/tru e", "arg"])
    }

    @Test("SOCKADDR of every family", arguments: [
        (11, SocketAddress.inet(address: "127.0.0.1", port: 9)),
        (12, .inet6(address: "::1", port: 9, flowInfo: 0, scopeID: 0)),
        (13, .unix(path: Array("/tmp/nodeaudit-fixture-dir/missing.sock".utf8)[...], isAbstract: false)),
        (14, .unix(path: Array("nodeaudit-abstract".utf8)[...], isAbstract: true)),
        (5, .netlink(family: 16, pid: 0, groups: 0)),
    ] as [(UInt64, SocketAddress)])
    func sockaddr(serial: UInt64, expected: SocketAddress) throws {
        let record = try #require(try records(serial: serial, type: "SOCKADDR").first)
        let bytes = try #require(record.string("saddr"))
        #expect(SocketAddress(bytes) == expected)
    }

    @Test("an AF_PACKET sockaddr is kept raw with its family")
    func otherFamily() throws {
        let record = try #require(try records(serial: 15, type: "SOCKADDR").first)
        let bytes = try #require(record.string("saddr"))
        let address = try #require(SocketAddress(bytes))
        guard case .other(let family, let raw) = address else {
            Issue.record("expected .other, got \(address)")
            return
        }
        #expect(family == 17)
        #expect(raw.count == 20)
        #expect(address.familyName == "unknown(17)")
    }

    @Test("truncated sockaddrs are refused rather than misread")
    func truncatedSockaddr() {
        #expect(SocketAddress(Array([2, 0, 0, 80])[...]) == nil)
        #expect(SocketAddress(Array([10, 0, 0, 80, 0, 0, 0, 0])[...]) == nil)
        #expect(SocketAddress(Array([1])[...]) == nil)
        #expect(SocketAddress(Array([1, 0])[...]) == .unixUnnamed)
    }

    @Test("IPv6 text follows RFC 5952", arguments: [
        ("20010db8000000000000000000000001", "2001:db8::1"),
        ("00000000000000000000000000000000", "::"),
        ("00000000000000000000ffff7f000001", "::ffff:127.0.0.1"),
        ("20010db8000100000001000100010001", "2001:db8:1:0:1:1:1:1"),
        ("fe800000000000000000000000000000", "fe80::"),
        ("20010000000000010000000000000001", "2001:0:0:1::1"),
    ])
    func ipv6Text(hex: String, expected: String) throws {
        let bytes = try #require(UntrustedString.hex(Array(hex.utf8)[...]))
        let sockaddr: [UInt8] = [10, 0, 0, 0, 0, 0, 0, 0] + Array(bytes)
        guard case .inet6(let address, _, _, _)? = SocketAddress(sockaddr[...]) else {
            Issue.record("not decoded")
            return
        }
        #expect(address == expected)
    }

    @Test("arch, syscall and errno names come from libaudit")
    func syscallTable() {
        let table = SyscallTable.shared
        #expect(table.architectureName(arch: 0xc000_003e) == "x86_64")
        #expect(table.architectureName(arch: 0x4000_0003) == "i386")
        #expect(table.architectureName(arch: 0xc000_00b7) == "aarch64")
        #expect(table.syscallName(59, arch: 0xc000_003e) == "execve")
        #expect(table.syscallName(42, arch: 0xc000_003e) == "connect")
        #expect(table.syscallName(11, arch: 0x4000_0003) == "execve")
        #expect(table.syscallName(221, arch: 0xc000_00b7) == "execve")
        #expect(table.syscallName(100_000, arch: 0xc000_003e) == nil)
        #expect(table.architectureName(arch: 0x1234) == nil)
        #expect(table.errnoName(2) == "ENOENT")
        #expect(table.errnoName(111) == "ECONNREFUSED")
        #expect(table.errnoName(0) == nil)
    }
}
