import AuditEvents
import AuditRecords
import Foundation
@testable import Output
import Testing
import TestSupport

/// `_bulk` creates each event under its own id, so a batch sent again stores nothing
/// twice: the id must be found in the native and in the ECS form alike.
@Suite("_bulk ids for both encoders")
struct BulkIdentityTests {
    static func events() throws -> [AuditEvent] {
        var assembler = EventAssembler(policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000))
        var groups: [RecordGroup] = []
        for line in try Fixtures.lines(ofFile: Fixtures.fixtureFile("kernel-cases.raw.log")) where !line.isEmpty {
            assembler.add(try Fixtures.record(line)) { groups.append($0) }
        }
        assembler.flush { groups.append($0) }
        let interpreter = EventInterpreter(argvByteLimit: 65536)
        return groups.map { interpreter.interpret($0) }
    }

    @Test("every event's id is found at the start of its line, native and ECS, and equals the id inside it",
          arguments: ["native", "ecs"])
    func idOfEveryLine(format: String) throws {
        let events = try Self.events()
        try #require(events.count > 5)
        for event in events {
            var writer = JSONWriter()
            if format == "ecs" { ECSEncoder().encode(event, into: &writer) } else { NativeJSONEncoder().encode(event, into: &writer) }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(writer.buffer)) as? [String: Any])
            let inside = format == "ecs" ? (object["event"] as? [String: Any])?["id"] as? String : object["id"] as? String
            let found = HTTPTransport.eventID(writer.buffer[...]).map { String(decoding: $0, as: UTF8.self) }
            #expect(found != nil && found == inside, "\(String(decoding: writer.buffer.prefix(120), as: UTF8.self))")
        }
    }

    @Test("a line of another shape has no id", arguments: [
        #"{"time":"x","id":"1.2:3"}"#, #"{"@timestamp":"2026","event":{"kind":"event","id":"1.2:3"}}"#, #"{"id":"1.2\"3"}"#, "garbage",
    ])
    func noIDInOtherShapes(line: String) {
        #expect(HTTPTransport.eventID(Array(line.utf8)[...]) == nil)
    }
}
