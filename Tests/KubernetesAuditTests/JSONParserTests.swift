import Foundation
import Testing
@testable import KubernetesAudit

@Suite("JSON parser (API audit input)")
struct JSONParserTests {
    func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test("reads what Foundation reads, to the same values")
    func agreesWithFoundation() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null,"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00"],"b":{"c":{}},"d":[],"e":"ü"}"#
        let value = try parse(text)
        let reference = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        #expect(value["a"]?.array?.count == (reference["a"] as! [Any]).count)
        #expect(value["a"]?.array?[5].string == (reference["a"] as! [Any])[5] as? String)
        #expect(value["e"]?.string == "ü")
        #expect(value["a"]?.array?[1] == .number("-2.5e3"))
        #expect(value["b"]?["c"] == .object([]))
    }

    @Test("refuses malformed text with its offset", arguments: [
        "", "{", "[1,]", "{\"a\" 1}", "01", "1.", "1e", "\"a", "\"\u{01}\"", "tru", "{} x", "\"\\x\"", "{1:2}", "[1 2]",
    ])
    func refuses(_ text: String) {
        #expect(throws: JSONParser.Failure.self) { try parse(text) }
    }

    @Test("nesting is bounded: a hostile line of 100,000 brackets is refused, not a stack overflow")
    func deepNesting() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: JSONParser.Failure.self) { try parse(deep) }
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect((try? parse(allowed)) != nil)
    }

    @Test("lone surrogates and invalid UTF-8 become U+FFFD, not a failure")
    func repairs() throws {
        #expect(try parse(#""\ud800x""#).string == "\u{fffd}x")
        #expect(try JSONParser.parse([0x22, 0xff, 0x41, 0x22]).string == "\u{fffd}A")
    }
}
