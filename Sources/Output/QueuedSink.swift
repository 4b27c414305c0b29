#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A bounded queue between the netlink reader and a sink, delivered by a thread of its
/// own: a slow or stalled consumer (a stdout pipe nobody reads, a collector that hangs)
/// never stops the reader, so the kernel's backlog keeps draining. When the queue is
/// full, new batches are dropped and counted — never waited for.
public final class QueuedSink: OutputChannel, @unchecked Sendable {
    public let capacityBytes: Int
    private let sink: any EventSink
    // Everything below is guarded by `mutex`.
    private var batches: [[UInt8]] = []
    private var delivery = DeliveryCounters()
    /// The delivery thread holds taken batches (counted in `queuedBytes` until written).
    private var delivering = false
    private var closing = false
    private var failure: SinkError?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init(_ sink: any EventSink, capacityBytes: Int) {
        self.sink = sink
        self.capacityBytes = capacityBytes
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        var thread = pthread_t()
        // The thread owns a reference until it ends (after `close`).
        let retained = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { argument in
            let queue = Unmanaged<QueuedSink>.fromOpaque(argument!).takeRetainedValue()
            queue.deliver()
            return nil
        }, retained)
        pthread_detach(thread)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Queues a batch of lines, or drops and counts it when the queue is full. Throws the
    /// sink's failure once delivery has failed for good.
    public func write(_ lines: [UInt8]) throws(SinkError) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let failure { throw failure }
        if delivery.pendingBytes + lines.count > capacityBytes {
            delivery.droppedEvents += Self.lineCount(lines)
            return
        }
        batches.append(lines)
        delivery.pendingBytes += lines.count
        pthread_cond_broadcast(changed)
    }

    /// Delivery is continuous; nothing to wait for here.
    public func flush() throws(SinkError) {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let failure { throw failure }
    }

    public var counters: DeliveryCounters {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return delivery
    }

    /// Waits up to `timeoutMilliseconds` for everything queued to be delivered, then ends
    /// the delivery thread. Returns false when the sink did not take it all in time .
    public func close(timeoutMilliseconds: Int) -> Bool {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        deadline.tv_sec += timeoutMilliseconds / 1000
        deadline.tv_nsec += (timeoutMilliseconds % 1000) * 1_000_000
        if deadline.tv_nsec >= 1_000_000_000 {
            deadline.tv_sec += 1
            deadline.tv_nsec -= 1_000_000_000
        }
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        closing = true
        pthread_cond_broadcast(changed)
        while !batches.isEmpty || delivering {
            if pthread_cond_timedwait(changed, mutex, &deadline) == ETIMEDOUT { return false }
        }
        return true
    }

    private func deliver() {
        pthread_mutex_lock(mutex)
        while true {
            while batches.isEmpty, !closing { pthread_cond_wait(changed, mutex) }
            if batches.isEmpty, closing { break }
            let taken = batches
            batches.removeAll(keepingCapacity: true)
            delivering = true
            pthread_mutex_unlock(mutex)

            var result: SinkError?
            do throws(SinkError) {
                for batch in taken { try sink.write(batch) }
                try sink.flush()
            } catch {
                result = error
            }

            pthread_mutex_lock(mutex)
            let bytes = taken.reduce(0) { $0 + $1.count }
            let lines = taken.reduce(UInt64(0)) { $0 + Self.lineCount($1) }
            delivery.pendingBytes -= bytes
            if let result {
                failure = failure ?? result
                delivery.droppedEvents += lines
                delivery.sendErrors += 1
            } else {
                delivery.deliveredEvents += lines
            }
            delivering = false
            pthread_cond_broadcast(changed)
        }
        pthread_mutex_unlock(mutex)
    }

    private static func lineCount(_ bytes: [UInt8]) -> UInt64 {
        UInt64(bytes.reduce(0) { $0 + ($1 == UInt8(ascii: "\n") ? 1 : 0) })
    }
}
