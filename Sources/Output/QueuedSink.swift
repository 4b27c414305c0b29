#if canImport(Glibc)
import Glibc
#endif
import HostIO

/// A bounded queue between the netlink reader and a sink, delivered by a thread of its
/// own: a slow or stalled consumer (a stdout pipe nobody reads, a collector that hangs)
/// never stops the reader, so the kernel's backlog keeps draining. When the queue is
/// full, new batches are dropped and counted — never waited for.
public final class QueuedSink: OutputChannel, @unchecked Sendable {
    public let capacityBytes: Int
    private let sink: any EventSink
    /// Told (on the delivery thread) each time more writes are settled.
    private let onSettled: (@Sendable () -> Void)?

    private struct State {
        var batches: [[UInt8]] = []
        /// The write number of each batch in `batches` (writes are numbered from 0).
        var batchWrites: [UInt64] = []
        /// Writes taken so far, dropped ones included.
        var writes: UInt64 = 0
        /// The write number of the oldest batch the delivery thread holds, nil when it holds none.
        var oldestDelivering: UInt64?
        var delivery = DeliveryCounters()
        /// The delivery thread holds taken batches (counted in `pendingBytes` until written).
        var delivering = false
        var closing = false
        var failure: SinkError?
    }
    private let state = Monitor(State())

    public init(_ sink: any EventSink, capacityBytes: Int, onSettled: (@Sendable () -> Void)? = nil) {
        self.sink = sink
        self.capacityBytes = capacityBytes
        self.onSettled = onSettled
        // The thread keeps the queue alive until it ends (after `close`).
        WorkerThread.detach { self.deliver() }
    }

    /// Queues a batch of lines, or drops and counts it when the queue is full. Throws the
    /// sink's failure once delivery has failed for good.
    public func write(_ lines: [UInt8]) throws(SinkError) {
        try state.update { (state) throws(SinkError) in
            let write = state.writes
            state.writes += 1
            if let failure = state.failure { throw failure }
            if state.delivery.pendingBytes + lines.count > capacityBytes {
                state.delivery.droppedEvents += Self.lineCount(lines)
                return
            }
            state.batches.append(lines)
            state.batchWrites.append(write)
            state.delivery.pendingBytes += lines.count
        }
    }

    /// Delivery is continuous; nothing to wait for here.
    public func flush() throws(SinkError) {
        try state.withLock { (state) throws(SinkError) in
            if let failure = state.failure { throw failure }
        }
    }

    public var counters: DeliveryCounters { state.withLock { $0.delivery } }

    /// Writes before the oldest batch still in memory: each was delivered or dropped and
    /// counted, so a kill of the process now loses none of them uncounted.
    public var settledWrites: UInt64 {
        state.withLock { $0.oldestDelivering ?? $0.batchWrites.first ?? $0.writes }
    }

    /// Waits up to `timeoutMilliseconds` for everything queued to be delivered, then ends
    /// the delivery thread. Returns false when the sink did not take it all in time.
    public func close(timeoutMilliseconds: Int) -> Bool {
        state.update { $0.closing = true }
        return state.wait(until: { $0.batches.isEmpty && !$0.delivering }, timeoutMilliseconds: timeoutMilliseconds) { _ in } != nil
    }

    private func deliver() {
        while true {
            let taken = state.wait(until: { !$0.batches.isEmpty || $0.closing }) { state -> [[UInt8]]? in
                if state.batches.isEmpty { return nil }  // closing, and all delivered
                defer {
                    state.batches.removeAll(keepingCapacity: true)
                    state.batchWrites.removeAll(keepingCapacity: true)
                }
                state.delivering = true
                state.oldestDelivering = state.batchWrites.first
                return state.batches
            } ?? nil
            guard let taken else { return }

            var result: SinkError?
            do throws(SinkError) {
                for batch in taken { try sink.write(batch) }
                try sink.flush()
            } catch {
                result = error
            }

            let bytes = taken.reduce(0) { $0 + $1.count }
            let lines = taken.reduce(UInt64(0)) { $0 + Self.lineCount($1) }
            state.update { state in
                state.delivery.pendingBytes -= bytes
                if let result {
                    state.failure = state.failure ?? result
                    state.delivery.droppedEvents += lines
                    state.delivery.sendErrors += 1
                } else {
                    state.delivery.deliveredEvents += lines
                }
                state.oldestDelivering = nil
            }
            // Told after the batch counts as settled, and before `close` may return: the
            // save it makes at stop is then never still running when the collector ends.
            onSettled?()
            state.update { $0.delivering = false }
        }
    }

    /// The lines of a batch, found with memchr (vectorised) rather than byte by byte: the
    /// writer thread counts every byte it delivers, so this cost grows with event size.
    static func lineCount(_ bytes: [UInt8]) -> UInt64 {
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            var lines: UInt64 = 0
            var offset = 0
            while offset < buffer.count, let found = memchr(base + offset, 0x0a, buffer.count - offset) {
                lines += 1
                offset = base.distance(to: UnsafeRawPointer(found)) + 1
            }
            return lines
        }
    }
}
