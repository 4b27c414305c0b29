/// Where encoded event lines go. A sink receives complete lines, in order.
public protocol EventSink: AnyObject {
    /// Takes ownership of a batch of complete lines.
    func write(_ lines: [UInt8]) throws(SinkError)
    /// Takes a batch of complete lines read in place: a sink that writes them at once
    /// needs no copy (the default makes one and calls `write(_:)`).
    func write(contentsOf lines: UnsafeBufferPointer<UInt8>) throws(SinkError)
    /// Delivers everything written so far.
    func flush() throws(SinkError)
}

extension EventSink {
    public func write(contentsOf lines: UnsafeBufferPointer<UInt8>) throws(SinkError) {
        try write(Array(lines))
    }
}

/// A sink could not deliver; the message says where and why.
public struct SinkError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// What an output delivered, dropped and still holds; the same for every kind of output.
public struct DeliveryCounters: Sendable, Equatable {
    /// Bytes of events waiting (in memory, or in the spool on disk).
    public var pendingBytes = 0
    /// Events handed to the output's destination.
    public var deliveredEvents: UInt64 = 0
    /// Events dropped because the queue or spool was full, or the output failed for good.
    public var droppedEvents: UInt64 = 0
    /// Events sent again after a connection broke (at-least-once delivery).
    public var resentEvents: UInt64 = 0
    public var sendErrors: UInt64 = 0
    /// Events the collector refused for good, put in the dead-letter file.
    public var refusedEvents: UInt64 = 0
    /// Of those, events the dead-letter file did not take: it was full, or writing it failed.
    public var refusedUnkeptEvents: UInt64 = 0
    /// Why the last refusal happened (the collector's answer), empty before any.
    public var lastRefusal = ""
    /// Milliseconds the last successful send took.
    public var lastSendMilliseconds: UInt64 = 0

    public init() {}

    public static func + (a: DeliveryCounters, b: DeliveryCounters) -> DeliveryCounters {
        var sum = DeliveryCounters()
        sum.pendingBytes = a.pendingBytes + b.pendingBytes
        sum.deliveredEvents = a.deliveredEvents + b.deliveredEvents
        sum.droppedEvents = a.droppedEvents + b.droppedEvents
        sum.resentEvents = a.resentEvents + b.resentEvents
        sum.sendErrors = a.sendErrors + b.sendErrors
        sum.refusedEvents = a.refusedEvents + b.refusedEvents
        sum.refusedUnkeptEvents = a.refusedUnkeptEvents + b.refusedUnkeptEvents
        sum.lastRefusal = b.lastRefusal.isEmpty ? a.lastRefusal : b.lastRefusal
        sum.lastSendMilliseconds = max(a.lastSendMilliseconds, b.lastSendMilliseconds)
        return sum
    }
}

/// An output that delivers on a thread of its own and never makes its writer wait.
public protocol OutputChannel: EventSink {
    var counters: DeliveryCounters { get }
    /// How many of the writes so far, counted from the first, are settled: delivered,
    /// dropped and counted, or kept where the next run finds them (a spool). The rest are
    /// in memory, and a kill of the process would lose them without a count.
    var settledWrites: UInt64 { get }
    /// Waits up to the timeout for what is pending to be delivered; false when some is left.
    func close(timeoutMilliseconds: Int) -> Bool
}
