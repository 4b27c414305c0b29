import AuditEvents
import AuditRecords
import Output
import Testing
import TestSupport

/// The pipeline interprets each event into the spent one before it (`interpret(_:into:)`),
/// so nothing of an earlier event may show in a later one.
@Suite("Events interpreted in place")
struct EventReuseTests {
    private func groups(ofFile path: String) throws -> [RecordGroup] {
        var assembler = EventAssembler(policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000))
        var groups: [RecordGroup] = []
        for line in try Fixtures.lines(ofFile: path) where !line.isEmpty {
            assembler.add(try Fixtures.record(line)) { groups.append($0) }
        }
        assembler.flush { groups.append($0) }
        return groups
    }

    private func encoded(_ event: AuditEvent) -> [UInt8] {
        var writer = JSONWriter()
        NativeJSONEncoder(includeRecords: true).encode(event, into: &writer)
        return writer.buffer
    }

    @Test("each event interpreted into the previous one encodes exactly as one interpreted anew",
          arguments: [Fixtures.fixtureFile("kernel-cases.raw.log"), Fixtures.corpusFile("exec-net-login.raw.log")])
    func reuseMatchesFresh(path: String) throws {
        let groups = try groups(ofFile: path)
        try #require(groups.count > 5)
        let interpreter = EventInterpreter(argvByteLimit: 65536)
        var reused = interpreter.interpret(groups[0])
        var differing = 0
        for group in groups.dropFirst() {
            interpreter.interpret(group, into: &reused)
            if encoded(reused) != encoded(interpreter.interpret(group)) { differing += 1 }
        }
        #expect(differing == 0, "\(differing) of \(groups.count) events differ when interpreted in place")
    }
}
