import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// Sends complete lines to a collector over some protocol.
public protocol LineTransport: AnyObject {
    /// Sends the lines (each ending in a newline). Throws when they could not be sent and
    /// sending them again may succeed (no connection, 429, 5xx); returns the lines the
    /// collector refused for good (a 4xx answer, an item no resend can fix), which then
    /// go to the dead-letter file instead of blocking the spool.
    func send(_ lines: ArraySlice<UInt8>) throws(SinkError) -> Refusal?
    /// Whether the connection is still up: a collector that closed or reset it has not
    /// necessarily read what was sent last.
    func isHealthy() -> Bool
    /// Drops the connection after a failure; the next `send` connects again.
    func reset()
    /// Whether a `send` that returned means the collector has the lines (an HTTP answer),
    /// rather than only that they left (a stream without acknowledgements).
    var acknowledgesDelivery: Bool { get }
}

extension LineTransport {
    public var acknowledgesDelivery: Bool { false }
}

/// Lines of a batch that a collector refused for good, and why.
public struct Refusal: Sendable, Equatable {
    /// Which lines of the batch, counted from 0.
    public var lines: [Int]
    public var reason: String

    public init(lines: [Int], reason: String) {
        self.lines = lines
        self.reason = reason
    }
}

/// A durable queue on disk in front of a collector: events are appended to segment files
/// the moment they are written, and a delivery thread sends them on, so an outage of the
/// collector (or a restart of nodeaudit, even by SIGKILL) loses nothing the spool could
/// hold. Delivery is at least once: what was sent shortly before a connection broke is
/// sent again (counted as `resent`). When the spool is full, new events are dropped and
/// counted; the writer (the netlink reader) never waits.
public final class SpooledSink: OutputChannel, @unchecked Sendable {
    /// A place in the spool: segment number and byte offset in it.
    struct Position: Comparable {
        var segment: UInt64
        var offset: Int
        static func < (a: Position, b: Position) -> Bool { (a.segment, a.offset) < (b.segment, b.offset) }
    }

    public let directory: String
    public let maxBytes: Int
    let segmentBytes: Int
    private let transport: any LineTransport
    private let batchBytes = 256 * 1024
    /// A sent batch counts as delivered once the connection is still up this long after:
    /// plain TCP says nothing of what the collector read, and a collector that is slow or
    /// busy may read seconds late; what it had not read when the connection broke is sent
    /// again (a duplicate at worst).
    private let confirmMilliseconds: UInt64

    private struct State {
        var counters = DeliveryCounters()
        /// Writes taken so far: each is in the spool file (which outlives the process) or
        /// dropped and counted by the time `write` returns.
        var writes: UInt64 = 0
        var writeSegment: UInt64 = 0
        var writeFD: Int32 = -1
        var writeSize = 0
        /// Everything before it was delivered (persisted in `cursor`).
        var confirmed = Position(segment: 0, offset: 0)
        var closing = false
    }
    private let state: Monitor<State>
    /// Events refused for good, one per line as they were spooled (`dead-letter.jsonl` in
    /// the spool's directory), up to `deadLetterMaxBytes`; beyond, they are only counted.
    public var deadLetterPath: String { directory + "/dead-letter.jsonl" }
    private let deadLetterMaxBytes: Int
    private let cursorFD: Int32

    public init(directory: String, maxBytes: Int, transport: any LineTransport, segmentBytes: Int = 4 << 20,
                confirmMilliseconds: UInt64 = 5000) throws(SinkError) {
        self.confirmMilliseconds = confirmMilliseconds
        self.deadLetterMaxBytes = max(maxBytes / 4, 1 << 20)
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        self.transport = transport
        do throws(HostFile.FileError) {
            try HostFile.createDirectories(directory, mode: 0o700)
        } catch {
            throw SinkError("cannot make the spool directory: \(error)")
        }
        cursorFD = open("\(directory)/cursor", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard cursorFD >= 0 else { throw SinkError("cannot open the spool in \(directory): \(SystemError.current)") }
        var initial = State()
        let segments = Self.segments(in: directory)
        initial.confirmed = Self.readCursor(cursorFD) ?? Position(segment: segments.first ?? 0, offset: 0)
        for segment in segments where segment < initial.confirmed.segment { unlink(Self.path(directory, segment)) }
        let kept = segments.filter { $0 >= initial.confirmed.segment }
        initial.counters.pendingBytes = kept.reduce(0) { $0 + Self.size(Self.path(directory, $1)) } - initial.confirmed.offset
        initial.writeSegment = max(kept.last ?? initial.confirmed.segment, initial.confirmed.segment)
        initial.writeFD = open(Self.path(directory, initial.writeSegment), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard initial.writeFD >= 0 else { throw SinkError("cannot write the spool in \(directory): \(SystemError.current)") }
        initial.writeSize = Self.size(Self.path(directory, initial.writeSegment))
        state = Monitor(initial)
        // The thread keeps the spool alive for as long as it delivers.
        WorkerThread.detach { self.deliver() }
    }

    public var counters: DeliveryCounters { state.withLock { $0.counters } }

    public var settledWrites: UInt64 { state.withLock { $0.writes } }

    /// Appends the lines to the spool (or drops and counts them when it is full).
    public func write(_ lines: [UInt8]) throws(SinkError) {
        let failure: SinkError? = state.withLock { state in
            state.writes += 1
            if state.counters.pendingBytes + lines.count > maxBytes {
                state.counters.droppedEvents += UInt64(lines.count { $0 == UInt8(ascii: "\n") })
                return nil
            }
            if state.writeSize >= segmentBytes {
                Glibc.close(state.writeFD)
                state.writeSegment += 1
                state.writeFD = open(Self.path(directory, state.writeSegment), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
                state.writeSize = 0
                guard state.writeFD >= 0 else { return SinkError("cannot write the spool in \(directory): \(SystemError.current)") }
            }
            do throws(HostFile.FileError) {
                try HostFile.writeAll(state.writeFD, lines[...], path: Self.path(directory, state.writeSegment))
            } catch {
                return SinkError("writing the spool: \(error)")
            }
            state.writeSize += lines.count
            state.counters.pendingBytes += lines.count
            return nil
        }
        if let failure { throw failure }
        state.wake()
    }

    public func flush() throws(SinkError) {}

    /// Waits up to `timeoutMilliseconds` until everything spooled was delivered. What is
    /// left stays in the spool for the next start.
    public func close(timeoutMilliseconds: Int) -> Bool {
        state.update { $0.closing = true }
        return state.wait(until: { $0.counters.pendingBytes == 0 }, timeoutMilliseconds: timeoutMilliseconds) { _ in } != nil
    }

    // MARK: - Delivery

    private func deliver() {
        var sent = state.withLock { $0.confirmed }
        var unconfirmed: [(end: Position, at: UInt64, lines: UInt64)] = []
        var backoff: UInt64 = 100
        while true {
            let (confirmed, writeSegment, writeSize, closing) = state.withLock { ($0.confirmed, $0.writeSegment, $0.writeSize, $0.closing) }
            if sent.segment < writeSegment, sent.offset >= Self.size(Self.path(directory, sent.segment)) {
                sent = Position(segment: sent.segment + 1, offset: 0)
                continue
            }
            if sent.segment == writeSegment, sent.offset >= writeSize {
                // Everything was sent: confirm what has stood long enough, then wait.
                confirm(&unconfirmed, upTo: Self.now())
                if unconfirmed.isEmpty, closing { return }
                if !transport.isHealthy() {
                    resend(from: confirmed, to: &sent, unconfirmed: &unconfirmed)
                    continue
                }
                waitForWork(milliseconds: unconfirmed.isEmpty ? 1000 : 200)
                continue
            }
            guard let (chunk, lineCount) = read(at: sent) else {
                waitForWork(milliseconds: 100)
                continue
            }
            let started = Self.now()
            do throws(SinkError) {
                guard transport.isHealthy() || unconfirmed.isEmpty else { throw SinkError("the collector closed the connection") }
                let refusal = try transport.send(chunk[...])
                if let refusal { deadLetter(refusal, in: chunk) }
                let end = Position(segment: sent.segment, offset: sent.offset + chunk.count)
                let acknowledged = transport.acknowledgesDelivery
                unconfirmed.append((end, acknowledged ? 0 : Self.now(), UInt64(lineCount - (refusal?.lines.count ?? 0))))
                sent = end
                backoff = 100
                state.withLock { $0.counters.lastSendMilliseconds = Self.now() - started }
                confirm(&unconfirmed, upTo: Self.now())
            } catch {
                state.withLock { $0.counters.sendErrors += 1 }
                transport.reset()
                resend(from: state.withLock { $0.confirmed }, to: &sent, unconfirmed: &unconfirmed)
                waitForWork(milliseconds: Int(backoff))
                backoff = min(backoff * 2, 30_000)
            }
        }
    }

    /// Batches sent at least `confirmMilliseconds` ago on a connection still up count as
    /// delivered: the spool forgets them.
    private func confirm(_ unconfirmed: inout [(end: Position, at: UInt64, lines: UInt64)], upTo now: UInt64) {
        guard transport.isHealthy() else { return }
        var last: Position?
        var lines: UInt64 = 0
        while let first = unconfirmed.first, now - first.at >= confirmMilliseconds {
            last = first.end
            lines += first.lines
            unconfirmed.removeFirst()
        }
        guard let last else { return }
        state.update { state in
            var released = 0
            var position = state.confirmed
            while position.segment < last.segment {
                released += Self.size(Self.path(directory, position.segment)) - position.offset
                unlink(Self.path(directory, position.segment))
                position = Position(segment: position.segment + 1, offset: 0)
            }
            released += last.offset - position.offset
            state.confirmed = last
            state.counters.pendingBytes -= released
            state.counters.deliveredEvents += lines
        }
        Self.writeCursor(cursorFD, last)
    }

    /// Appends the refused lines of `batch` to the dead-letter file and counts them.
    private func deadLetter(_ refusal: Refusal, in batch: [UInt8]) {
        var lines: [UInt8] = []
        var index = 0
        var start = 0
        let wanted = Set(refusal.lines)
        for end in batch.indices where batch[end] == UInt8(ascii: "\n") {
            if wanted.contains(index) { lines += batch[start...end] }
            index += 1
            start = end + 1
        }
        var notKept: String?
        if Self.size(deadLetterPath) + lines.count > deadLetterMaxBytes {
            notKept = "the dead-letter file is full"
        } else {
            let fd = open(deadLetterPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
            if fd < 0 {
                notKept = "the dead-letter file cannot be opened: \(SystemError.current)"
            } else {
                do throws(HostFile.FileError) { try HostFile.writeAll(fd, lines[...], path: deadLetterPath) } catch {
                    notKept = "the dead-letter file cannot be written: \(error)"
                }
                Glibc.close(fd)
            }
        }
        state.withLock { state in
            state.counters.refusedEvents += UInt64(refusal.lines.count)
            if notKept != nil { state.counters.refusedUnkeptEvents += UInt64(refusal.lines.count) }
            state.counters.lastRefusal = refusal.reason + (notKept.map { " (\($0): not kept)" } ?? "")
        }
    }

    /// After a broken connection, everything not yet confirmed is sent again.
    private func resend(from confirmed: Position, to sent: inout Position, unconfirmed: inout [(end: Position, at: UInt64, lines: UInt64)]) {
        let again = unconfirmed.reduce(UInt64(0)) { $0 + $1.lines }
        if again > 0 { state.withLock { $0.counters.resentEvents += again } }
        unconfirmed.removeAll()
        sent = confirmed
        transport.reset()
    }

    /// Whole lines from `position`: as many as fit in `batchBytes`, or the one line there
    /// when it is longer (an event up to `events.max_event_bytes`, or one an earlier
    /// version wrote). nil while the line at `position` is still being written.
    private func read(at position: Position) -> ([UInt8], Int)? {
        let fd = open(Self.path(directory, position.segment), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { Glibc.close(fd) }
        var buffer: [UInt8] = []
        var wanted = batchBytes
        while true {
            let start = buffer.count
            buffer += [UInt8](repeating: 0, count: wanted - start)
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + start, wanted - start, off_t(position.offset + start)) }
            if count < 0, errno == EINTR { buffer.removeSubrange(start...); continue }
            buffer.removeSubrange((start + max(0, count))...)
            if let lastNewline = buffer.lastIndex(of: UInt8(ascii: "\n")) {
                buffer.removeSubrange((lastNewline + 1)...)
                return (buffer, buffer.count { $0 == UInt8(ascii: "\n") })
            }
            // No line end yet: the end of what is written (a line still being
            // appended), or one line longer than the batch: read on.
            if count <= 0 || buffer.count < wanted { return nil }
            wanted *= 2
        }
    }

    private func waitForWork(milliseconds: Int) {
        state.pause(milliseconds: milliseconds)
    }

    // MARK: - Files

    static func path(_ directory: String, _ segment: UInt64) -> String {
        let digits = String(segment)
        return "\(directory)/\(String(repeating: "0", count: max(0, 12 - digits.count)))\(digits).spool"
    }

    static func segments(in directory: String) -> [UInt64] {
        HostDirectory.entries(directory).compactMap { name in name.hasSuffix(".spool") ? UInt64(name.dropLast(6)) : nil }.sorted()
    }

    static func size(_ path: String) -> Int {
        var info = stat()
        return stat(path, &info) == 0 ? Int(info.st_size) : 0
    }

    static func readCursor(_ fd: Int32) -> Position? {
        var buffer = [UInt8](repeating: 0, count: 64)
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, 64, 0) }
        guard count > 0 else { return nil }
        let words = String(decoding: buffer.prefix(count), as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\0" })
        guard words.count >= 2, let segment = UInt64(words[0]), let offset = Int(words[1]) else { return nil }
        return Position(segment: segment, offset: offset)
    }

    /// One fixed-size record, rewritten in place.
    static func writeCursor(_ fd: Int32, _ position: Position) {
        var text = Array("\(position.segment) \(position.offset)\n".utf8)
        text += [UInt8](repeating: 0x20, count: max(0, 63 - text.count)) + [0x0A]
        _ = text.withUnsafeBytes { pwrite(fd, $0.baseAddress!, text.count, 0) }
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1000 + UInt64(time.tv_nsec / 1_000_000)
    }
}
