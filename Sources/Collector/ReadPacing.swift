/// How long the read loop lets audit records gather in the socket before its next read.
///
/// Records arrive one netlink message each. Read as they come, a node auditing a
/// thousand execs a second (seven records each) would wake the collector thousands of
/// times a second, and the wakeups would cost more than the records. So the loop reads
/// in batches: a thin flow is read every `thinGatherMicroseconds` (measured side by side
/// at 1,000 execs/s: every 50 ms cost 0.60–0.63× the CPU of reading after 5 ms, every
/// 100 ms 0.88–0.91× that of every 50 ms; docs/performance.md), and
/// a thick one as soon as a read falls short of a full batch, after `gatherMicroseconds`.
/// Events then wait at most that long more before the outputs' flush.
///
/// The flow is thin while the messages a second, measured over windows of
/// `thinGatherMicroseconds`, stay below `thinFlowMessagesPerSecond` and what a gather of
/// them takes fits in a quarter of the receive buffer (each message counted at the
/// kernel's allocation for a record, about 2.5 KB): a burst that starts during a gather
/// still finds room, and a small buffer keeps the short gather.
struct ReadPacing {
    /// A read of fewer messages than this, in a thick flow, waits `gatherMicroseconds`.
    static let batchMessages = 64
    static let gatherMicroseconds: UInt32 = 5000
    static let thinGatherMicroseconds: UInt32 = 100_000
    static let thinFlowMessagesPerSecond = 20_000
    /// What one queued record takes of the socket's receive buffer: the kernel allocates
    /// each record's message for 1 KiB of text, in a 2 KiB slab, plus its sk_buff.
    static let bytesPerQueuedMessage = 2560

    /// The flow below which the long gather is used, for this receive buffer.
    let thinBelowPerSecond: Int
    private var windowStart: UInt64
    private var windowMessages = 0
    private var isThin = true

    init(receiveBufferBytes: Int, nowMilliseconds: UInt64) {
        let gathersPerSecond = 1_000_000 / Int(Self.thinGatherMicroseconds)
        let fittingPerSecond = receiveBufferBytes / 4 / Self.bytesPerQueuedMessage * gathersPerSecond
        thinBelowPerSecond = min(Self.thinFlowMessagesPerSecond, fittingPerSecond)
        windowStart = nowMilliseconds
    }

    /// The pause, in microseconds, after a read of `count` messages at `now` (0: read
    /// again once records are there; an idle loop sleeps in its wait instead). A read
    /// that stopped at its bound with records still waiting (`emptied` false) is followed
    /// at once: pausing then would cap the flow at one bounded read per gather.
    mutating func pause(afterReading count: Int, emptied: Bool = true, nowMilliseconds now: UInt64) -> UInt32 {
        windowMessages += count
        let elapsed = now &- windowStart
        if elapsed >= UInt64(Self.thinGatherMicroseconds / 1000) {
            isThin = UInt64(windowMessages) * 1000 / elapsed < UInt64(thinBelowPerSecond)
            windowStart = now
            windowMessages = 0
        }
        guard count > 0, emptied else { return 0 }
        if isThin { return Self.thinGatherMicroseconds }
        return count < Self.batchMessages ? Self.gatherMicroseconds : 0
    }
}
