#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AuditEvents
import Output

/// Renders and writes events on a thread of its own, in the order their record groups
/// were handed over, so that `nodeaudit parse` uses a second core: one thread reads,
/// parses and correlates records, the other interprets, enriches, encodes and writes. At
/// most `depth` batches wait; the handing thread then waits too, so memory stays bounded
/// however much faster it reads than the output takes.
///
/// Rendered batches go back to the handing thread to be freed there, where their records
/// were allocated: frees from another thread contend for glibc's arena lock (measured:
/// two threads were slower than one until this).
///
/// The live collector does not use it: there, CPU per event counts, not wall time.
final class RenderingThread: @unchecked Sendable {
    private let renderer: EventRenderer
    private let sink: any EventSink
    private let depth: Int
    private let batchBytes: Int
    // Guarded by `mutex`.
    private var queue: [RenderBatch] = []
    /// Batches written, to be freed by the handing thread.
    private var written: [RenderBatch] = []
    private var encoding = false
    private var stopping = false
    private var failure: SinkError?
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var thread = pthread_t()

    init(renderer: EventRenderer, sink: any EventSink, depth: Int = 8, batchBytes: Int) {
        self.renderer = renderer
        self.sink = sink
        self.depth = depth
        self.batchBytes = batchBytes
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
        // The thread holds a reference until `stop` joins it.
        let retained = Unmanaged.passRetained(self).toOpaque()
        pthread_create(&thread, nil, { argument in
            let worker = Unmanaged<RenderingThread>.fromOpaque(argument!).takeRetainedValue()
            worker.run()
            return nil
        }, retained)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Hands over a batch, waiting while `depth` batches are queued. Throws the sink's
    /// failure once writing has failed.
    /// Returns the batches written since the last call, for the caller to free (or reuse)
    /// on its own thread, outside the lock.
    func submit(_ batch: RenderBatch) throws(SinkError) -> [RenderBatch] {
        var done: [RenderBatch] = []
        pthread_mutex_lock(mutex)
        while queue.count >= depth, failure == nil { pthread_cond_wait(changed, mutex) }
        if let failure {
            pthread_mutex_unlock(mutex)
            throw failure
        }
        queue.append(batch)
        swap(&done, &written)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
        return done
    }

    /// Whether a batch waits that the thread has not started on: the handing thread then
    /// interprets the next batch itself rather than only queue it (measured: stealing
    /// whenever one waits balanced the threads better than only when the queue is full).
    var isBehind: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return !queue.isEmpty
    }

    /// Waits until every event handed over is written to the sink. The sink and the
    /// renderer are then idle and may be used by the caller until the next `submit`.
    func drain() throws(SinkError) {
        var done: [RenderBatch] = []
        pthread_mutex_lock(mutex)
        while !queue.isEmpty || encoding, failure == nil { pthread_cond_wait(changed, mutex) }
        swap(&done, &written)
        let failure = self.failure
        pthread_mutex_unlock(mutex)
        done.removeAll()
        if let failure { throw failure }
    }

    /// Ends the thread after the queued events are written.
    func stop() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
        pthread_join(thread, nil)
    }

    private func run() {
        var writer = JSONWriter(capacity: batchBytes + 64 * 1024)
        pthread_mutex_lock(mutex)
        while true {
            while queue.isEmpty, !stopping { pthread_cond_wait(changed, mutex) }
            if queue.isEmpty { break }
            var batch = queue.removeFirst()
            encoding = true
            let failed = failure != nil
            pthread_mutex_unlock(mutex)

            var result: SinkError?
            if !failed {
                do throws(SinkError) {
                    for index in 0..<batch.count {
                        if index < batch.events.count {
                            renderer.render(interpreted: &batch.events[index], into: &writer)
                        } else {
                            renderer.render(batch.groups[index - batch.events.count], into: &writer)
                        }
                        if writer.count >= batchBytes {
                            try writer.withBytes { (bytes) throws(SinkError) in try sink.write(contentsOf: bytes) }
                            writer.removeAll()
                        }
                    }
                    if !writer.isEmpty {
                        try writer.withBytes { (bytes) throws(SinkError) in try sink.write(contentsOf: bytes) }
                        writer.removeAll()
                    }
                } catch {
                    writer.removeAll()
                    result = error
                }
            }

            pthread_mutex_lock(mutex)
            written.append(batch)
            if let result, failure == nil { failure = result }
            encoding = false
            pthread_cond_broadcast(changed)
        }
        pthread_mutex_unlock(mutex)
    }
}
