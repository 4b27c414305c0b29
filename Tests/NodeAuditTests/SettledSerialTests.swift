import AuditRecords
import Collector
import Output
import Pipeline
import Testing
import TestSupport

/// An output that keeps every write and settles them when the test says: a queue whose
/// thread has not delivered yet.
private final class HeldOutput: OutputChannel {
    private(set) var batches: [[UInt8]] = []
    var settledWrites: UInt64 = 0
    var counters: DeliveryCounters { DeliveryCounters() }

    func write(_ lines: [UInt8]) throws(SinkError) { batches.append(lines) }
    func flush() throws(SinkError) {}
    func close(timeoutMilliseconds: Int) -> Bool { true }
}

@Suite("the serial a restart compares with")
struct SettledSerialTests {
    static func exec(_ serial: Int) throws -> [AuditRecord] {
        try LoginSessionTests.syscall(serial, ses: 1, argv: "marker-\(serial)").map(Fixtures.record)
    }

    @Test("the state names the highest serial of the writes the outputs settled, not of those only handed to them")
    func settledNotHanded() throws {
        let output = HeldOutput()
        let outputs = OutputSet([("held", output)])
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), sink: outputs)
        for serial in 101...103 { for record in try Self.exec(serial) { try pipeline.add(record) } }
        try pipeline.finish()
        #expect(output.batches.count == 1)
        for serial in 201...202 { for record in try Self.exec(serial) { try pipeline.add(record) } }
        try pipeline.finish()
        #expect(output.batches.count == 2)

        #expect(pipeline.writes.highestSerial(settledWrites: outputs.settledWrites) == 0, "nothing delivered yet")
        output.settledWrites = 1
        #expect(pipeline.writes.highestSerial(settledWrites: outputs.settledWrites) == 103)
        output.settledWrites = 2
        #expect(pipeline.writes.highestSerial(settledWrites: outputs.settledWrites) == 202)
    }

    @Test("nodeaudit's own lines (reports) between events keep the writes and their serials in step")
    func ownLines() throws {
        let output = HeldOutput()
        let outputs = OutputSet([("held", output)])
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), sink: outputs)
        for record in try Self.exec(301) { try pipeline.add(record) }
        try pipeline.finish()
        try pipeline.writeOwnLines(Array("{\"type\":\"nodeaudit_report\"}\n".utf8))
        for record in try Self.exec(302) { try pipeline.add(record) }
        try pipeline.finish()
        #expect(output.batches.count == 3)
        output.settledWrites = 2
        #expect(pipeline.writes.highestSerial(settledWrites: outputs.settledWrites) == 301, "the report is no event: 302 is not delivered")
        output.settledWrites = 3
        #expect(pipeline.writes.highestSerial(settledWrites: outputs.settledWrites) == 302)
    }

    @Test("writes waiting beyond the bound: the claim only comes later, never earlier")
    func bounded() throws {
        let output = HeldOutput()
        let outputs = OutputSet([("held", output)])
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), sink: outputs)
        for serial in 1...5_000 {
            for record in try Self.exec(serial) { try pipeline.add(record) }
            try pipeline.flush()
        }
        try pipeline.finish()
        let writes = output.batches.count
        #expect(writes >= 4_999)
        // Each write's highest serial, as its lines say.
        let serials = output.batches.map { batch in
            String(decoding: batch, as: UTF8.self).split(separator: "\n").compactMap { line in
                line.firstRange(of: "marker-").map { Int(line[$0.upperBound...].prefix { $0.isNumber })! }
            }.max()!
        }
        var previous = 0
        for settled in [1, 100, 1_000, 2_500, writes - 1, writes] {
            output.settledWrites = UInt64(settled)
            let claimed = Int(pipeline.writes.highestSerial(settledWrites: outputs.settledWrites))
            #expect(claimed <= serials[settled - 1], "never more than the settled writes hold")
            #expect(claimed >= previous)
            previous = claimed
        }
        #expect(previous == 5_000, "all settled: all claimed")
    }
}

@Suite("the save that follows each delivery")
struct SettledStateSaverTests {
    /// Where the stack was when the save ran, and how often it ran.
    private final class Depths: @unchecked Sendable {
        var first: UInt = 0
        var last: UInt = 0
        var calls = 0
        func note() {
            var local = 0
            let address = withUnsafeMutablePointer(to: &local) { UInt(bitPattern: $0) }
            if calls == 0 { first = address }
            last = address
            calls += 1
        }
    }

    @Test("the 10,000th delivery runs the save as directly as the first: no call chain that grows with each one")
    func constantDepth() {
        let saver = SettledStateSaver()
        let depths = Depths()
        saver.set { depths.note() }
        for _ in 0..<10_000 { saver.delivered() }
        #expect(depths.calls == 10_000)
        #expect(depths.first == depths.last, "the save ran \(Int(depths.first) - Int(depths.last)) bytes deeper in the stack")
    }
}

@Suite("the stream state file's line")
struct StreamStateLineTests {
    @Test("`boot SERIAL LOST MS`, padded with spaces to a fixed size, reads back as written; numbers at their limits too")
    func lineRoundTrips() throws {
        let states = [
            StreamState(boot: "0f6c2a8e-4b1d-4c3e-9a7f-2d5e8b1c3a90", highestSerialWritten: 8_123_456, kernelLost: 17,
                        epochMilliseconds: 1_796_000_123_456),
            StreamState(boot: "b", highestSerialWritten: 0, kernelLost: 0, epochMilliseconds: 0),
            StreamState(boot: "x", highestSerialWritten: .max, kernelLost: .max, epochMilliseconds: .max),
        ]
        for state in states {
            let line = state.line
            #expect(line.count == StreamState.recordBytes)
            let text = String(decoding: line, as: UTF8.self)
            let expected = "\(state.boot) \(state.highestSerialWritten) \(state.kernelLost) \(state.epochMilliseconds)\n"
            #expect(text.hasPrefix(expected))
            #expect(text.dropFirst(expected.utf8.count).allSatisfy { $0 == " " })
            #expect(StreamState(line: line) == state)
        }
    }
}
