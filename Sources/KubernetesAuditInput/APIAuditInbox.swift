import HostIO

/// Where the API audit sources (the log file's follower, the webhook) leave their encoded
/// `k8s_api` lines for the read loop, which owns the outputs: the loop writes each batch
/// after the node's events so far and tells the source (`handed`) which write carried it.
/// Bounded in bytes: a full inbox holds the follower back and makes the webhook answer
/// 503 (the API server retries), never the node's audit stream.
package final class APIAuditInbox: @unchecked Sendable {
    package struct Batch: Sendable {
        package var lines: [UInt8]
        /// Called by the read loop with the number of the output write that took the lines.
        package var handed: @Sendable (UInt64) -> Void

        package init(lines: [UInt8], handed: @escaping @Sendable (UInt64) -> Void) {
            self.lines = lines
            self.handed = handed
        }
    }

    private struct State: Sendable {
        var batches: [Batch] = []
        var bytes = 0
        var stopped = false
    }

    private let state = Monitor(State())
    package let capacityBytes: Int

    package init(capacityBytes: Int = 32 << 20) { self.capacityBytes = capacityBytes }

    /// Leaves a batch. With `wait`, waits for room while the inbox is full, until
    /// `cancelled` says so (asked every 100 ms) or the inbox stops; without, false at once
    /// when it is full. A batch larger than the whole inbox is taken when it is empty.
    package func put(_ batch: Batch, wait: Bool, cancelled: () -> Bool = { false }) -> Bool {
        let fits = { (state: State) in state.bytes == 0 || state.bytes + batch.lines.count <= self.capacityBytes }
        while true {
            let taken = state.wait(until: { state in state.stopped || fits(state) || !wait }, timeoutMilliseconds: 100, then: { state -> Bool in
                guard !state.stopped, fits(state) else { return false }
                state.batches.append(batch)
                state.bytes += batch.lines.count
                return true
            })
            if let taken { return taken }
            if cancelled() { return false }
        }
    }

    /// Every batch waiting, oldest first (the read loop).
    package func take() -> [Batch] {
        state.update { state in
            defer {
                state.batches.removeAll()
                state.bytes = 0
            }
            return state.batches
        }
    }

    /// Ends every wait; later batches are refused.
    package func stop() {
        state.update { $0.stopped = true }
    }
}
