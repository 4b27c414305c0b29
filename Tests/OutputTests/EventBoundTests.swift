import AuditEvents
import AuditRecords
import Foundation
import Output
import Testing
import TestSupport

/// Any local user chooses the size of argv: an event's line has an upper bound
/// (`events.max_event_bytes`); a longer event is written reduced or as its summary, still
/// one JSON object, marked `truncated` with its full size.
@Suite("the bound on an event's size")
struct EventBoundTests {
    /// An exec event with one argument of `argumentBytes` bytes.
    static func bigExec(argumentBytes: Int) throws -> AuditEvent {
        let argument = String(repeating: "A", count: argumentBytes)
        let lines = [
            #"type=SYSCALL msg=audit(1700000000.123:42): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="true" exe="/bin/true" key="exec""#,
            #"type=EXECVE msg=audit(1700000000.123:42): argc=2 a0="/bin/true" a1=""# + argument + #"""#,
            #"type=PROCTITLE msg=audit(1700000000.123:42): proctitle=2F62696E2F74727565"#,
        ]
        var assembler = EventAssembler(policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000))
        var groups: [RecordGroup] = []
        for line in lines { assembler.add(try Fixtures.record(line)) { groups.append($0) } }
        assembler.flush { groups.append($0) }
        try #require(groups.count == 1)
        return EventInterpreter(argvByteLimit: 1 << 20).interpret(groups[0])
    }

    static func object(_ writer: borrowing JSONWriter) throws -> [String: Any] {
        let bytes = writer.buffer
        #expect(bytes.last == UInt8(ascii: "\n") && bytes.dropLast().allSatisfy { $0 != UInt8(ascii: "\n") }, "not one line")
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test("under the bound: written whole, not marked")
    func underTheBound() throws {
        var writer = JSONWriter()
        let cut = NativeJSONEncoder(includeRecords: true).encode(try Self.bigExec(argumentBytes: 1000), into: &writer, maxBytes: 1 << 20)
        #expect(!cut)
        #expect(try Self.object(writer)["truncated"] == nil)
    }

    @Test("records make it too long: written without them, marked, with the argv whole")
    func withoutRecords() throws {
        let event = try Self.bigExec(argumentBytes: 30_000)
        var full = JSONWriter()
        NativeJSONEncoder(includeRecords: true).encode(event, into: &full)
        var writer = JSONWriter()
        #expect(NativeJSONEncoder(includeRecords: true).encode(event, into: &writer, maxBytes: 40_000))
        #expect(writer.count <= 40_000)
        let object = try Self.object(writer)
        #expect(object["truncated"] as? Bool == true)
        #expect(object["original_bytes"] as? Int == full.count)
        #expect(object["records"] == nil)
        #expect(((object["process"] as? [String: Any])?["argv"] as? [String])?.last?.count == 30_000)
    }

    @Test("too long even without records: the summary, with id, keys and record types, in both schemas", arguments: ["native", "ecs"])
    func summary(format: String) throws {
        let event = try Self.bigExec(argumentBytes: 30_000)
        let encoder: any EventEncoder = format == "ecs" ? ECSEncoder() : NativeJSONEncoder(includeRecords: true)
        var writer = JSONWriter()
        #expect(encoder.encode(event, into: &writer, maxBytes: 4096))
        #expect(writer.count <= 4096)
        let object = try Self.object(writer)
        #expect(object["truncated"] as? Bool == true)
        #expect((object["original_bytes"] as? Int ?? 0) > 30_000)
        if format == "ecs" {
            #expect((object["event"] as? [String: Any])?["id"] as? String == "1700000000.123:42")
            #expect((object["nodeaudit"] as? [String: Any])?["record_types"] as? [String] == ["SYSCALL", "EXECVE", "PROCTITLE"])
        } else {
            #expect(object["id"] as? String == "1700000000.123:42")
            #expect(object["keys"] as? [String] == ["exec"])
            #expect(object["record_types"] as? [String] == ["SYSCALL", "EXECVE", "PROCTITLE"])
        }
    }

    @Test("the lines before and after a cut event are untouched in the same writer")
    func neighboursUntouched() throws {
        let small = try Self.bigExec(argumentBytes: 10)
        let big = try Self.bigExec(argumentBytes: 30_000)
        var writer = JSONWriter()
        let encoder = NativeJSONEncoder()
        encoder.encode(small, into: &writer, maxBytes: 4096)
        encoder.encode(big, into: &writer, maxBytes: 4096)
        encoder.encode(small, into: &writer, maxBytes: 4096)
        let lines = try Command.jsonLines(Data(writer.buffer))
        #expect(lines.count == 3)
        #expect(lines.map { $0["truncated"] as? Bool } == [nil, true, nil])
    }
}
