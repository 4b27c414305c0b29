import AuditRecords
import Foundation
import Output
import Testing

@Suite("JSON writer: escaping keeps one event one line")
struct JSONWriterTests {
    /// Writes `{"v": bytes}` and parses it back.
    private func roundTrip(_ bytes: [UInt8]) throws -> (line: [UInt8], value: String) {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("v")
        writer.string(bytes[...])
        writer.endObject()
        let object = try JSONSerialization.jsonObject(with: Data(writer.buffer)) as? [String: Any]
        return (writer.buffer, try #require(object?["v"] as? String))
    }

    @Test("quotes, backslashes, newlines, tabs and ANSI escapes are escaped", arguments: [
        "quote\" newline\n esc\u{1b}[31m",
        "back\\slash and \"json\": {\"injected\": true}",
        "carriage\rreturn\ttab\u{0}nul\u{7f}del",
        "ünïcode ✓ 😀",
        "\u{2028}line separator",
    ])
    func escapes(text: String) throws {
        let (line, value) = try roundTrip(Array(text.utf8))
        #expect(value == text)
        #expect(!line.contains(UInt8(ascii: "\n")))
        #expect(!line.contains(0x1b))
        #expect(!line.contains(0))
    }

    @Test("invalid UTF-8 becomes U+FFFD and the line stays valid JSON", arguments: [
        [0x61, 0xff, 0x62],                // stray byte
        [0x61, 0xc3],                      // truncated sequence
        [0xc0, 0xaf],                      // overlong '/'
        [0xed, 0xa0, 0x80],                // surrogate
        [0xf4, 0x90, 0x80, 0x80],          // above U+10FFFF
        [0x80, 0x80, 0x22, 0x0a],          // continuation bytes, quote, newline
    ] as [[UInt8]])
    func invalidUTF8(bytes: [UInt8]) throws {
        let (line, value) = try roundTrip(bytes)
        #expect(value.contains("\u{FFFD}"))
        #expect(!line.contains(UInt8(ascii: "\n")))
    }

    @Test("a byte to escape is found at every position of strings of every length up to 24 (words are checked eight and four bytes at a time)",
          arguments: [0x00, 0x0a, 0x1f, 0x22, 0x5c, 0x7f, 0x80, 0xff] as [UInt8])
    func escapeAtEveryPosition(special: UInt8) throws {
        let plain = Array("abcdefghijklmnopqrstuvwx".utf8)
        for length in 0...plain.count {
            let (line, value) = try roundTrip(Array(plain[..<length]))
            #expect(line == Array(#"{"v":""#.utf8) + plain[..<length] + Array(#""}"#.utf8))
            #expect(value == String(decoding: plain[..<length], as: UTF8.self))
            for position in 0..<length {
                var bytes = Array(plain[..<length])
                bytes[position] = special
                let (line, value) = try roundTrip(bytes)
                #expect(value == String(decoding: bytes, as: UTF8.self), "length \(length), position \(position)")
                #expect(!line.contains { $0 < 0x20 || $0 == 0x7f }, "length \(length), position \(position)")
            }
        }
    }

    @Test("numbers of every length, and each side of a power of ten, are written as Swift writes them")
    func decimalNumbers() {
        var values: [UInt64] = [0, UInt64.max, UInt64.max - 1]
        var power: UInt64 = 1
        for _ in 0...19 {
            values += [power &- 1, power, power &+ 1, power &* 7 &+ 3]
            power &*= 10
        }
        values += (0..<1000).map { UInt64($0) &* 7_919 &* 1_000_003 }
        for value in values {
            var writer = JSONWriter()
            writer.number(value)
            writer.number(-Int64(truncatingIfNeeded: value >> 1))
            #expect(String(decoding: writer.buffer, as: UTF8.self) == "\(value),\(-Int64(truncatingIfNeeded: value >> 1))")
        }
    }

    @Test("a value written again is a copy of its bytes, also once the writer grew between")
    func repeatedValue() {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("a")
        let start = writer.count
        writer.beginObject(); writer.key("id"); writer.number(0); writer.key("name"); writer.string("root"); writer.endObject()
        let object = start..<writer.count
        // Enough to grow the 64-byte region several times before the copy.
        writer.key("filler"); writer.string(String(repeating: "x", count: 1000))
        writer.key("b")
        writer.repeatValue(at: object)
        writer.key("c")
        writer.repeatValue(at: object)
        writer.endObject()
        let filler = String(repeating: "x", count: 1000)
        #expect(String(decoding: writer.buffer, as: UTF8.self)
            == #"{"a":{"id":0,"name":"root"},"filler":""# + filler + #"","b":{"id":0,"name":"root"},"c":{"id":0,"name":"root"}}"#)
    }

    @Test("numbers, booleans, null and nesting")
    func structure() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("a"); writer.number(Int64.min)
        writer.key("b"); writer.number(UInt64.max)
        writer.key("c"); writer.bool(true)
        writer.key("d"); writer.null()
        writer.key("e"); writer.beginArray(); writer.number(0); writer.string("x"); writer.beginObject(); writer.endObject(); writer.endArray()
        writer.endObject()
        #expect(String(decoding: writer.buffer, as: UTF8.self)
            == #"{"a":-9223372036854775808,"b":18446744073709551615,"c":true,"d":null,"e":[0,"x",{}]}"#)
    }
}

@Suite("RFC 3339 timestamps")
struct TimestampTests {
    @Test("matches Foundation's formatting", arguments: [
        (UInt64(0), UInt16(0)), (1_795_561_246, 275), (951_782_400, 999), (4_102_444_799, 1), (1_709_164_800, 500),
    ])
    func matchesFoundation(seconds: UInt64, milliseconds: UInt16) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        let date = Date(timeIntervalSince1970: Double(seconds) + Double(milliseconds) / 1000)
        let ours = String(decoding: Timestamp.rfc3339(seconds: seconds, milliseconds: milliseconds), as: UTF8.self)
        #expect(ours == formatter.string(from: date))
    }
}
