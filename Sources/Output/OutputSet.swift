/// Every output of a live run (stdout, a file, a collector), each delivering on a thread
/// of its own behind a bounded queue or a spool, so a slow one never holds up another or
/// the reader. Writes go to all of them.
///
/// Writes come from one thread; `settledWrites` and `counters` may be asked from any.
public final class OutputSet: EventSink, @unchecked Sendable {
    public let outputs: [(name: String, channel: any OutputChannel)]

    public init(_ outputs: [(name: String, channel: any OutputChannel)]) {
        self.outputs = outputs
    }

    public func write(_ lines: [UInt8]) throws(SinkError) {
        var failure: SinkError?
        for output in outputs {
            do throws(SinkError) { try output.channel.write(lines) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }

    public func flush() throws(SinkError) {
        for output in outputs { try output.channel.flush() }
    }

    /// The writes settled in every output (the slowest output's count). Safe from any
    /// thread: each output counts under its own lock.
    public var settledWrites: UInt64 {
        outputs.map(\.channel.settledWrites).min() ?? 0
    }

    /// All outputs' counters added up.
    public var counters: DeliveryCounters {
        outputs.reduce(DeliveryCounters()) { $0 + $1.channel.counters }
    }

    /// Closes every output, each with the timeout; the names of those that kept events.
    public func close(timeoutMilliseconds: Int) -> [String] {
        outputs.filter { !$0.channel.close(timeoutMilliseconds: timeoutMilliseconds) }.map(\.name)
    }
}
