@testable import Collector
import Testing

/// The read loop's pauses between reads, driven by a clock the test moves.
@Suite("pacing the reads of audit records")
struct ReadPacingTests {
    static let buffer = 32 << 20

    /// Reads `count` messages every `interval` ms for `reads` reads; the pauses asked.
    static func pauses(_ pacing: inout ReadPacing, count: Int, every interval: UInt64, reads: Int, from start: inout UInt64) -> [UInt32] {
        (0..<reads).map { _ in
            start += interval
            return pacing.pause(afterReading: count, nowMilliseconds: start)
        }
    }

    @Test("a thin flow (1,000 execs/s: 7,000 records/s) is read once a thin gather (100 ms); an idle loop is not paused")
    func thinFlow() {
        var now: UInt64 = 1000
        var pacing = ReadPacing(receiveBufferBytes: Self.buffer, nowMilliseconds: now)
        #expect(pacing.thinBelowPerSecond == ReadPacing.thinFlowMessagesPerSecond)
        #expect(pacing.pause(afterReading: 0, nowMilliseconds: now + 100) == 0)
        now += 100
        let pauses = Self.pauses(&pacing, count: 350, every: 50, reads: 20, from: &now)
        #expect(pauses.allSatisfy { $0 == ReadPacing.thinGatherMicroseconds }, "\(pauses)")
    }

    @Test("a thick flow (40,000 records/s) is read once a read falls short of a batch, after 5 ms, from its first window on")
    func thickFlow() {
        var now: UInt64 = 1000
        var pacing = ReadPacing(receiveBufferBytes: Self.buffer, nowMilliseconds: now)
        // 200 messages every 5 ms, then a short read: the first window (one thin gather
        // long) ends after `windowRounds` of them.
        let windowRounds = Int(ReadPacing.thinGatherMicroseconds / 1000 / 5)
        var pauses: [UInt32] = []
        for _ in 0..<(windowRounds + 20) {
            pauses += Self.pauses(&pacing, count: 200, every: 5, reads: 1, from: &now)
            pauses.append(pacing.pause(afterReading: 3, nowMilliseconds: now))
        }
        let afterFirstWindow = Array(pauses.dropFirst(2 * windowRounds))
        #expect(afterFirstWindow == Array(repeating: [0, ReadPacing.gatherMicroseconds], count: 20).flatMap { $0 }, "\(afterFirstWindow)")
        // A burst after a thin flow: at most one window of long pauses.
        var burst = ReadPacing(receiveBufferBytes: Self.buffer, nowMilliseconds: now)
        _ = Self.pauses(&burst, count: 350, every: 50, reads: 4, from: &now)
        let burstPauses = Self.pauses(&burst, count: 8000, every: 50, reads: 3, from: &now)
        #expect(burstPauses.dropFirst() == [0, 0], "\(burstPauses)")
    }

    @Test("a read that stopped at its bound with records waiting is followed at once, in a thin window too")
    func boundedRead() {
        var now: UInt64 = 1000
        var pacing = ReadPacing(receiveBufferBytes: Self.buffer, nowMilliseconds: now)
        // A thin flow, then a burst that one bounded read does not empty.
        _ = Self.pauses(&pacing, count: 350, every: 50, reads: 4, from: &now)
        #expect(pacing.pause(afterReading: 1024, emptied: false, nowMilliseconds: now) == 0)
        #expect(pacing.pause(afterReading: 1024, emptied: false, nowMilliseconds: now + 1) == 0)
        #expect(pacing.pause(afterReading: 300, emptied: true, nowMilliseconds: now + 2) == ReadPacing.thinGatherMicroseconds,
                "the window (100 ms) has not ended: still thin")
    }

    @Test("a small receive buffer keeps the short gather for flows it could not hold for a thin gather")
    func smallBuffer() {
        var now: UInt64 = 1000
        var pacing = ReadPacing(receiveBufferBytes: 64 << 10, nowMilliseconds: now)
        #expect(pacing.thinBelowPerSecond < 1000)
        // 1,000 records/s: 50 every 50 ms, each a short read.
        let pauses = Self.pauses(&pacing, count: 50, every: 50, reads: 10, from: &now)
        #expect(pauses.dropFirst().allSatisfy { $0 == ReadPacing.gatherMicroseconds }, "\(pauses)")
    }
}
