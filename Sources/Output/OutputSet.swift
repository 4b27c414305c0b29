/// Every output of a live run (stdout, a file, …), each behind a queue of its own so a
/// slow one never holds up another or the reader. Writes go to all of them.
public final class OutputSet: EventSink {
    public let outputs: [(name: String, queue: QueuedSink)]

    /// - Parameter capacityBytes: the queue of each output.
    public init(_ sinks: [(name: String, sink: any EventSink)], capacityBytes: Int) {
        outputs = sinks.map { ($0.name, QueuedSink($0.sink, capacityBytes: capacityBytes)) }
    }

    public func write(_ lines: [UInt8]) throws(SinkError) {
        var failure: SinkError?
        for output in outputs {
            do throws(SinkError) { try output.queue.write(lines) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    public func flush() throws(SinkError) {
        for output in outputs { try output.queue.flush() }
    }

    /// All outputs' counters added up.
    public var snapshot: QueuedSink.Counters {
        outputs.reduce(into: QueuedSink.Counters()) { total, output in
            let counters = output.queue.snapshot
            total.queuedBytes += counters.queuedBytes
            total.droppedEvents += counters.droppedEvents
            total.droppedBytes += counters.droppedBytes
            total.deliveredEvents += counters.deliveredEvents
        }
    }

    /// Closes every output (see `QueuedSink.close`); the names of those that did not
    /// take everything in time.
    public func close(timeoutMilliseconds: Int) -> [String] {
        outputs.filter { !$0.queue.close(timeoutMilliseconds: timeoutMilliseconds) }.map(\.name)
    }
}
