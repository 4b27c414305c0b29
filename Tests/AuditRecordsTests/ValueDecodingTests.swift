import AuditRecords
import Testing
import TestSupport

@Suite("Value decoding: quoted, hex, (null), numbers")
struct ValueDecodingTests {
    @Test("quoted strings lose their quotes")
    func quoted() throws {
        let record = try Fixtures.record(try Fixtures.line("type=CWD", ":13):"))
        #expect(record.raw("cwd")?.utf8String == "\"/work/main\"")
        #expect(record.string("cwd")?.utf8String == "/work/main")
    }

    @Test("hex-encoded argv keeps quotes, newlines and escape bytes exactly")
    func hexArgument() throws {
        let record = try Fixtures.record(try Fixtures.line("type=EXECVE", ":7):"))
        #expect(Array(record.string("a1") ?? []) == Array("quote\" newline\n esc\u{1b}[31m".utf8))
        #expect(record.string("a2")?.utf8String == "plain")
    }

    @Test("hex-encoded comm and exe with a space")
    func hexCommAndExe() throws {
        let record = try Fixtures.record(try Fixtures.line("type=SYSCALL", ":8):"))
        #expect(record.raw("comm")?.utf8String == "7472752065")
        #expect(record.string("comm")?.utf8String == "tru e")
        #expect(record.string("exe")?.utf8String == "/tmp/nodeaudit-fixture-dir/tru e")
    }

    @Test("hex-encoded path name")
    func hexPath() throws {
        let record = try Fixtures.record(try Fixtures.line("type=PATH", ":8):", "item=0"))
        #expect(record.string("name")?.utf8String == "/tmp/nodeaudit-fixture-dir/tru e")
    }

    @Test("(null) and ? decode to nothing")
    func null() throws {
        let record = try Fixtures.record(try Fixtures.line("type=SYSCALL", ":5):"))
        #expect(record.raw("key")?.utf8String == "(null)")
        #expect(record.string("key") == nil)
        #expect(UntrustedString.decode(Array("?".utf8)[...]) == nil)
    }

    @Test("numbers: unsigned, signed, hexadecimal, too large")
    func numbers() throws {
        let record = try Fixtures.record(try Fixtures.line("type=SYSCALL", ":13):"))
        #expect(record.signed("exit") == -2)
        #expect(record.unsigned("ses") == 4_294_967_295)
        #expect(record.hexadecimal("a1") == 0x7ffd_cc95_a180)
        #expect(record.unsigned("comm") == nil)
        #expect(ByteNumbers.decimal(Array("18446744073709551616".utf8)[...]) == nil)
        #expect(ByteNumbers.decimal(Array("18446744073709551615".utf8)[...]) == UInt64.max)
        #expect(ByteNumbers.signedDecimal(Array("-9223372036854775808".utf8)[...]) == Int64.min)
        #expect(ByteNumbers.hexadecimal(Array("0x1F".utf8)[...]) == 31)
    }

    @Test("hex decodes upper and lower case alike, and any byte that is no digit, anywhere, fails the value")
    func hexDigits() {
        func decoded(_ text: [UInt8]) -> [UInt8]? {
            var out = [UInt8](repeating: 0, count: text.count / 2)
            let valid = text.withUnsafeBufferPointer { raw in out.withUnsafeMutableBufferPointer { UntrustedString.hex(raw, into: $0) } }
            return valid ? out : nil
        }
        #expect(decoded(Array("00ff7F80aBcD1e".utf8)) == [0x00, 0xFF, 0x7F, 0x80, 0xAB, 0xCD, 0x1E])
        let digits = Set("0123456789abcdefABCDEF".utf8)
        for byte in UInt8.min...UInt8.max where !digits.contains(byte) {
            for position in 0..<6 {
                var text = Array("2f746d".utf8)
                text[position] = byte
                #expect(decoded(text) == nil, "byte \(byte) at \(position)")
            }
        }
    }

    @Test("odd-length or non-hex unquoted values are kept as written and flagged")
    func malformedHex() {
        let odd = UntrustedString.decodeReportingMalformed(Array("ABC".utf8)[...])
        #expect(odd.value?.utf8String == "ABC")
        #expect(odd.wasMalformed)
        let bad = UntrustedString.decodeReportingMalformed(Array("zz".utf8)[...])
        #expect(bad.value?.utf8String == "zz")
        #expect(bad.wasMalformed)
        let truncatedQuote = UntrustedString.decodeReportingMalformed(Array("\"abc".utf8)[...])
        #expect(truncatedQuote.value?.utf8String == "abc")
        #expect(truncatedQuote.wasMalformed)
    }
}
