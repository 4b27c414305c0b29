import Foundation
import Output
import Testing

/// A sink that takes nothing until it is opened, and can be made to fail.
private final class GateSink: EventSink, @unchecked Sendable {
    let gate = DispatchSemaphore(value: 0)
    let lock = NSLock()
    var received: [UInt8] = []
    var failure: SinkError?

    func write(_ lines: [UInt8]) throws(SinkError) {
        gate.wait()
        gate.signal()
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        received.append(contentsOf: lines)
    }

    func flush() throws(SinkError) {}
}

@Suite("the output queue between reader and sink")
struct QueuedSinkTests {
    static func lines(_ count: Int, tag: String) -> [UInt8] {
        Array((0..<count).map { "{\"\(tag)\":\($0)}\n" }.joined().utf8)
    }

    @Test("a stalled sink never blocks the writer: what does not fit is dropped and counted, the rest delivered in order")
    func stalledSink() throws {
        let sink = GateSink()
        let queue = QueuedSink(sink, capacityBytes: 1000)
        let batch = Self.lines(10, tag: "a")  // 100 bytes
        for _ in 0..<25 { try queue.write(batch) }  // returns although nothing is delivered
        let stalled = queue.counters
        #expect(stalled.droppedEvents > 0)
        #expect(stalled.pendingBytes <= 1000)

        sink.gate.signal()
        #expect(queue.close(timeoutMilliseconds: 5000))
        let done = queue.counters
        #expect(done.pendingBytes == 0)
        #expect(done.deliveredEvents + done.droppedEvents == 250)
        #expect(sink.received.count == Int(done.deliveredEvents) * batch.count / 10)
        #expect(sink.received.count % batch.count == 0 && sink.received.prefix(batch.count).elementsEqual(batch))
    }

    @Test("delivered events are the lines delivered, whatever the batches' shapes")
    func countsLines() throws {
        let sink = GateSink()
        sink.gate.signal()
        let queue = QueuedSink(sink, capacityBytes: 1 << 20)
        let long = Array(("{\"argv\":\"" + String(repeating: "x", count: 70_000) + "\"}\n").utf8)
        let batches: [[UInt8]] = [Self.lines(1, tag: "a"), long, Self.lines(333, tag: "b"), long + long, Self.lines(7, tag: "c")]
        for batch in batches { try queue.write(batch) }
        #expect(queue.close(timeoutMilliseconds: 5000))
        #expect(queue.counters.deliveredEvents == 1 + 1 + 333 + 2 + 7)
        #expect(sink.received == batches.flatMap { $0 })
    }

    @Test("close reports a sink that never takes its events")
    func neverDelivers() throws {
        let sink = GateSink()
        let queue = QueuedSink(sink, capacityBytes: 1 << 20)
        try queue.write(Self.lines(3, tag: "b"))
        #expect(!queue.close(timeoutMilliseconds: 200))
        #expect(queue.counters.pendingBytes > 0)
        sink.gate.signal()
    }

    @Test("a failing sink: its events are counted as dropped and the failure reaches the writer")
    func failingSink() throws {
        let sink = GateSink()
        sink.failure = SinkError("writing to collector: connection refused")
        sink.gate.signal()
        let queue = QueuedSink(sink, capacityBytes: 1 << 20)
        try queue.write(Self.lines(4, tag: "c"))
        _ = queue.close(timeoutMilliseconds: 2000)
        #expect(queue.counters.droppedEvents == 4)
        #expect(throws: SinkError.self) { try queue.write(Self.lines(1, tag: "d")) }
    }
}

/// Counts calls from any thread.
private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}

@Suite("what the outputs settled, for the restart's state")
struct SettledWritesTests {
    @Test("a queue settles a write only once it is delivered or dropped; the output set answers for its slowest output")
    func queueSettles() throws {
        let held = GateSink()
        let open = GateSink()
        open.gate.signal()
        let told = Counter()
        let slow = QueuedSink(held, capacityBytes: 200, onSettled: { told.add() })
        let fast = QueuedSink(open, capacityBytes: 1 << 20)
        let outputs = OutputSet([("slow", slow), ("fast", fast)])
        let batch = QueuedSinkTests.lines(10, tag: "s")  // 80 bytes
        for _ in 0..<2 { try outputs.write(batch) }
        #expect(slow.settledWrites == 0, "both batches are still in memory")
        try outputs.write(batch)  // does not fit: dropped and counted, yet the two before it are held
        #expect(slow.counters.droppedEvents == 10)
        #expect(slow.settledWrites == 0)
        #expect(fast.close(timeoutMilliseconds: 5000))
        #expect(fast.settledWrites == 3)
        #expect(outputs.settledWrites == 0, "the slowest output decides")

        held.gate.signal()
        #expect(slow.close(timeoutMilliseconds: 5000))
        #expect(slow.settledWrites == 3)
        #expect(told.value >= 1, "the queue told that it delivered")
        #expect(outputs.settledWrites == 3)
    }
}
