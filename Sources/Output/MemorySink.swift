/// Keeps every line in memory: for embedding nodeaudit's pipeline (tests, fuzzing) where
/// the caller reads the output itself.
public final class MemorySink: EventSink {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public func write(_ lines: [UInt8]) throws(SinkError) { bytes.append(contentsOf: lines) }
    public func flush() throws(SinkError) {}
}
