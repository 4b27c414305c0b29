import Foundation
import Output
import Testing
import TestSupport

/// A collector in memory that can be taken down.
private final class FakeCollector: LineTransport, @unchecked Sendable {
    let lock = NSLock()
    var received: [String] = []
    var down = false

    func send(_ lines: ArraySlice<UInt8>) throws(SinkError) -> Refusal? {
        lock.lock()
        defer { lock.unlock() }
        if down { throw SinkError("collector down") }
        let batch = String(decoding: lines, as: UTF8.self).split(separator: "\n").map(String.init)
        let refused = batch.indices.filter { batch[$0].contains("refuse-me") }
        received += batch.indices.filter { !refused.contains($0) }.map { batch[$0] }
        return refused.isEmpty ? nil : Refusal(lines: refused, reason: "refused by the test")
    }

    func isHealthy() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return !down
    }

    func reset() {}

    func setDown(_ value: Bool) {
        lock.lock()
        down = value
        lock.unlock()
    }

    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return received.count
    }
}

@Suite("the spool in front of a collector")
struct SpooledSinkTests {
    static func lines(_ range: Range<Int>) -> [UInt8] { Array(range.map { "{\"n\":\($0)}\n" }.joined().utf8) }

    /// A sent batch counts as delivered after this window on a live connection; short
    /// here, so that the tests wait for delivery, not for a production-sized window.
    static let confirmMilliseconds: UInt64 = 50

    @Test("events written while the collector is down are delivered when it is back; nothing is lost")
    func outage() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let collector = FakeCollector()
        collector.setDown(true)
        let spool = try SpooledSink(directory: directory, maxBytes: 1 << 20, transport: collector, segmentBytes: 200,
                                    confirmMilliseconds: Self.confirmMilliseconds)
        for start in stride(from: 0, to: 100, by: 10) { try spool.write(Self.lines(start..<start + 10)) }
        #expect(spool.settledWrites == 10, "in the spool file, which a kill does not lose")
        // The spool has tried the collector (and failed) before it comes back.
        let tried = Wait.until { spool.counters.sendErrors > 0 }

        #expect(tried, "the spool never tried to send")
        #expect(collector.count == 0)
        #expect(spool.counters.pendingBytes == Self.lines(0..<100).count)
        collector.setDown(false)
        #expect(spool.close(timeoutMilliseconds: 10_000))
        #expect(Set(collector.received) == Set((0..<100).map { "{\"n\":\($0)}" }))
        #expect(spool.counters.deliveredEvents == 100 && spool.counters.sendErrors > 0)
    }

    @Test("a new spool on the same directory delivers what the previous one kept (a restart)")
    func restart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let down = FakeCollector()
        down.setDown(true)
        let first = try SpooledSink(directory: directory, maxBytes: 1 << 20, transport: down, segmentBytes: 150,
                                    confirmMilliseconds: Self.confirmMilliseconds)
        try first.write(Self.lines(0..<40))
        #expect(!first.close(timeoutMilliseconds: 200))

        let collector = FakeCollector()
        let second = try SpooledSink(directory: directory, maxBytes: 1 << 20, transport: collector, segmentBytes: 150,
                                     confirmMilliseconds: Self.confirmMilliseconds)
        try second.write(Self.lines(40..<50))
        #expect(second.close(timeoutMilliseconds: 10_000))
        #expect(collector.received == (0..<50).map { "{\"n\":\($0)}" }, "in order, once each")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".spool") }
        #expect(leftovers.count <= 1, "delivered segments are deleted: \(leftovers)")
    }

    @Test("a full spool drops new events and counts them, without blocking")
    func full() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let collector = FakeCollector()
        collector.setDown(true)
        let spool = try SpooledSink(directory: directory, maxBytes: 90, transport: collector,
                                    confirmMilliseconds: Self.confirmMilliseconds)
        try spool.write(Self.lines(0..<8))  // 8 × 8 bytes = 64
        try spool.write(Self.lines(8..<12))  // 34 more would pass 90
        #expect(spool.counters.droppedEvents == 4)
        #expect(spool.counters.pendingBytes == 64)
        collector.setDown(false)
        #expect(spool.close(timeoutMilliseconds: 10_000))
    }

    @Test("a line longer than a delivery batch (256 KiB) is delivered whole, and the lines after it too")
    func lineLongerThanABatch() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let collector = FakeCollector()
        let spool = try SpooledSink(directory: directory, maxBytes: 16 << 20, transport: collector,
                                    confirmMilliseconds: Self.confirmMilliseconds)
        let big = "{\"big\":\"" + String(repeating: "x", count: 1 << 20) + "\"}"
        try spool.write(Self.lines(0..<5))
        try spool.write(Array((big + "\n").utf8))
        try spool.write(Self.lines(5..<100))
        #expect(spool.close(timeoutMilliseconds: 10_000))
        #expect(collector.received == (0..<5).map { "{\"n\":\($0)}" } + [big] + (5..<100).map { "{\"n\":\($0)}" })
    }

    @Test("lines the collector refuses for good go to the dead-letter file, counted; the rest flows on")
    func refusedLinesToDeadLetter() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let collector = FakeCollector()
        let spool = try SpooledSink(directory: directory, maxBytes: 1 << 20, transport: collector,
                                    confirmMilliseconds: Self.confirmMilliseconds)
        let poisoned: Set<Int> = [3, 17, 18, 60]
        for n in 0..<100 {
            try spool.write(Array((poisoned.contains(n) ? "{\"n\":\(n),\"refuse-me\":true}\n" : "{\"n\":\(n)}\n").utf8))
        }
        #expect(spool.close(timeoutMilliseconds: 10_000))
        #expect(collector.received == (0..<100).filter { !poisoned.contains($0) }.map { "{\"n\":\($0)}" })
        let dead = try String(contentsOfFile: spool.deadLetterPath, encoding: .utf8)
        #expect(dead == poisoned.sorted().map { "{\"n\":\($0),\"refuse-me\":true}\n" }.joined())
        #expect(spool.counters.refusedEvents == 4)
        #expect(spool.counters.refusedUnkeptEvents == 0)
        #expect(spool.counters.deliveredEvents == 96)
        #expect(spool.counters.lastRefusal == "refused by the test")
    }

    @Test("a dead-letter file that cannot be written loses the refused lines: counted as not kept, and the reason says why")
    func deadLetterUnwritable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-spool-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let collector = FakeCollector()
        let spool = try SpooledSink(directory: directory, maxBytes: 1 << 20, transport: collector,
                                    confirmMilliseconds: Self.confirmMilliseconds)
        // A directory where the file would be: opening it for writing fails.
        try FileManager.default.createDirectory(atPath: spool.deadLetterPath, withIntermediateDirectories: true)
        for n in 0..<10 { try spool.write(Array((n % 5 == 0 ? "{\"n\":\(n),\"refuse-me\":true}\n" : "{\"n\":\(n)}\n").utf8)) }
        #expect(spool.close(timeoutMilliseconds: 10_000))
        #expect(spool.counters.refusedEvents == 2)
        #expect(spool.counters.refusedUnkeptEvents == 2)
        #expect(spool.counters.lastRefusal.hasPrefix("refused by the test (the dead-letter file cannot be opened"))
        #expect(spool.counters.deliveredEvents == 8)
    }
}
