import Foundation
import Output
import Testing

@Suite("Field selection per output: fields and groups left out of encoded lines")
struct FieldOmissionTests {
    static func omit(_ paths: [String], _ text: String) throws -> String {
        let omission = try FieldOmission(paths: paths)
        var output: [UInt8] = []
        Array(text.utf8).withUnsafeBufferPointer { omission.apply($0, into: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    @Test("single fields, whole groups, nested paths and paths inside arrays of objects are left out; the rest is kept byte for byte", arguments: [
        (["b"], #"{"a":1,"b":{"x":[1,2]},"c":"s"}"#, #"{"a":1,"c":"s"}"#),
        (["a"], #"{"a":1,"b":2}"#, #"{"b":2}"#),
        (["b"], #"{"a":1,"b":2}"#, #"{"a":1}"#),
        (["a", "b"], #"{"a":1,"b":2}"#, #"{}"#),
        (["p.euid", "p.suid"], #"{"p":{"pid":5,"euid":{"id":0},"suid":{"id":0},"uid":{"id":0}},"k":true}"#, #"{"p":{"pid":5,"uid":{"id":0}},"k":true}"#),
        (["p.ancestors.pid"], #"{"p":{"ancestors":[{"pid":1,"exe":"/a"},{"pid":2}],"x":null}}"#, #"{"p":{"ancestors":[{"exe":"/a"},{}],"x":null}}"#),
        (["missing.path", "p.none"], #"{"p":{"a":[1,"}",{"q":"{"}]},"n":-1.5e3}"#, #"{"p":{"a":[1,"}",{"q":"{"}]},"n":-1.5e3}"#),
    ])
    func omits(paths: [String], line: String, expected: String) throws {
        #expect(try Self.omit(paths, line + "\n") == expected + "\n")
    }

    @Test("what a local user puts in argv or a file name cannot end or open a field")
    func hostileStrings() throws {
        let hostile = #"{"argv":["x\",\"records\":{\"a\":1}}","\\\"},{"],"records":[{"msg":"{\"\\\\"}],"name":"a\u0000b"}"#
        let kept = try Self.omit(["records"], hostile + "\n")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(kept.utf8)) as? [String: Any])
        #expect(object["records"] == nil)
        #expect((object["argv"] as? [String]) == [#"x","records":{"a":1}}"#, #"\"},{"#])
        #expect(object["name"] as? String == "a\u{0}b")
    }

    @Test("several lines in one batch are each filtered; a line that is not a JSON object is passed on unchanged")
    func batches() throws {
        let batch = "{\"a\":1,\"b\":2}\n{\"b\":3}\nnot json {\"b\":4}\n{\"b\":\"unterminated\n"
        #expect(try Self.omit(["b"], batch) == "{\"a\":1}\n{}\nnot json {\"b\":4}\n{\"b\":\"unterminated\n")
    }

    @Test("a path that is not one, and the event id, are refused with the reason", arguments: ["", "a..b", ".a", "a.", "a b", "id", "a/b"])
    func refused(path: String) {
        #expect(throws: FieldOmissionError.self) { try FieldOmission(paths: [path]) }
    }

    @Test("a sink wrapped with an omission passes on filtered lines, in order")
    func sink() throws {
        let memory = MemorySink()
        let sink = FieldOmitting(memory, omitting: try FieldOmission(paths: ["records"]))
        try sink.write(Array("{\"id\":\"1\",\"records\":[]}\n".utf8))
        try sink.write(Array("{\"id\":\"2\"}\n".utf8))
        #expect(String(decoding: memory.bytes, as: UTF8.self) == "{\"id\":\"1\"}\n{\"id\":\"2\"}\n")
    }
}
