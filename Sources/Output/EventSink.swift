/// Where encoded event lines go. A sink receives complete lines, in order.
public protocol EventSink: AnyObject {
    /// Takes ownership of a batch of complete lines.
    func write(_ lines: [UInt8]) throws(SinkError)
    /// Delivers everything written so far.
    func flush() throws(SinkError)
}

/// A sink could not deliver; the message says where and why.
public struct SinkError: Error, CustomStringConvertible, Sendable {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
