import AuditEvents
import HostIO
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
package final class RenderingThread: @unchecked Sendable {
    private let renderer: EventRenderer
    private let sink: any EventSink
    private let depth: Int
    private let batchBytes: Int

    private struct State {
        package var queue: [RenderBatch] = []
        /// Batches written, to be freed by the handing thread.
        package var written: [RenderBatch] = []
        package var encoding = false
        package var stopping = false
        package var failure: SinkError?
    }
    private let state = Monitor(State())
    private var thread: WorkerThread?

    package init(renderer: EventRenderer, sink: any EventSink, depth: Int = 8, batchBytes: Int) {
        self.renderer = renderer
        self.sink = sink
        self.depth = depth
        self.batchBytes = batchBytes
        // The thread holds a reference until `stop` joins it.
        thread = WorkerThread.start { self.run() }
    }

    /// Hands over a batch, waiting while `depth` batches are queued. Throws the sink's
    /// failure once writing has failed.
    /// Returns the batches written since the last call, for the caller to free (or reuse)
    /// on its own thread, outside the lock.
    package func submit(_ batch: RenderBatch) throws(SinkError) -> [RenderBatch] {
        let depth = self.depth
        let outcome = state.wait(until: { $0.queue.count < depth || $0.failure != nil }) { state -> Result<[RenderBatch], SinkError> in
            if let failure = state.failure { return .failure(failure) }
            state.queue.append(batch)
            var done: [RenderBatch] = []
            swap(&done, &state.written)
            return .success(done)
        }
        return try outcome!.get()
    }

    /// Whether a batch waits that the thread has not started on: the handing thread then
    /// interprets the next batch itself rather than only queue it (measured: stealing
    /// whenever one waits balanced the threads better than only when the queue is full).
    package var isBehind: Bool { state.withLock { !$0.queue.isEmpty } }

    /// Waits until every event handed over is written to the sink. The sink and the
    /// renderer are then idle and may be used by the caller until the next `submit`.
    package func drain() throws(SinkError) {
        var (done, failure) = state.wait(until: { ($0.queue.isEmpty && !$0.encoding) || $0.failure != nil }) { state in
            var done: [RenderBatch] = []
            swap(&done, &state.written)
            return (done, state.failure)
        }!
        done.removeAll()
        if let failure { throw failure }
    }

    /// Ends the thread after the queued events are written.
    package func stop() {
        state.update { $0.stopping = true }
        thread?.join()
        thread = nil
    }

    private func run() {
        var writer = JSONWriter(capacity: batchBytes + 64 * 1024)
        while true {
            let next = state.wait(until: { !$0.queue.isEmpty || $0.stopping }) { state -> (RenderBatch, Bool)? in
                if state.queue.isEmpty { return nil }
                state.encoding = true
                return (state.queue.removeFirst(), state.failure != nil)
            } ?? nil
            guard let (taken, failed) = next else { return }
            var batch = taken

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
            state.update { state in
                state.written.append(batch)
                if let result, state.failure == nil { state.failure = result }
                state.encoding = false
            }
        }
    }
}
