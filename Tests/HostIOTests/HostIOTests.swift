import Glibc
import HostIO
import Testing

/// The host-I/O layer every worker thread and output stands on: the lock-and-wait, the
/// threads, and the one write loop, under the conditions real outputs meet (a full
/// non-blocking pipe, signals that interrupt a blocking write).
@Suite("host I/O: monitor, worker threads, writes")
struct HostIOTests {
    @Test("four threads updating one monitor lose nothing, and a waiter wakes on the change it waits for")
    func monitorCounts() {
        let monitor = Monitor(0)
        let perThread = 20_000
        let waiter = WorkerThread.start {
            _ = monitor.wait(until: { $0 == 4 * perThread }) { $0 += 1 }
        }
        let producers = (0..<4).map { _ in
            WorkerThread.start { for _ in 0..<perThread { monitor.update { $0 += 1 } } }
        }
        producers.forEach { $0.join() }
        waiter.join()
        #expect(monitor.withLock { $0 } == 4 * perThread + 1, "the waiter ran once, after every update")
    }

    @Test("a timed wait whose condition never holds gives up and runs nothing; a wake without change does not satisfy it")
    func monitorTimeout() {
        let monitor = Monitor(false)
        let waker = WorkerThread.start { for _ in 0..<5 { monitor.wake() } }
        let outcome: Int? = monitor.wait(until: { $0 }, timeoutMilliseconds: 50) { _ in 1 }
        waker.join()
        #expect(outcome == nil)
        #expect(monitor.withLock { $0 } == false)
    }

    /// A pipe whose reader, on a thread of its own, takes nothing until the writer has
    /// filled the pipe, `fills` times over, so that the writer meets a full pipe each
    /// time (and `whenFull` runs while it does); then it reads freely.
    final class FullPipeReader: @unchecked Sendable {
        let readFD: Int32
        let writeFD: Int32
        private let capacity: Int32
        private let received = Monitor<[UInt8]>([])
        /// How many times the reader found the pipe full before reading it.
        private let fullSeen = Monitor(0)
        private var thread: WorkerThread?
        /// F_GETPIPE_SZ (F_LINUX_SPECIFIC_BASE + 8), which Glibc's module does not export.
        private static let getPipeSize: Int32 = 1032

        init(expected: Int, fills: Int = 4, whenFull: (@Sendable () -> Void)? = nil) throws {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            readFD = fds[0]
            writeFD = fds[1]
            capacity = fcntl(readFD, Self.getPipeSize)
            try #require(capacity > 0)
            thread = WorkerThread.start { [self] in
                var buffer = [UInt8](repeating: 0, count: 4096)
                var total = 0
                while total < expected {
                    if fullSeen.withLock({ $0 }) < fills {
                        guard waitUntilFull() else { break }
                        fullSeen.update { $0 += 1 }
                        whenFull?()
                    }
                    let count = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else { break }
                    received.update { $0 += buffer[..<count] }
                    total += count
                }
            }
        }

        /// Whether the pipe holds all it can: its writer cannot write more now.
        private var isFull: Bool {
            var available: Int32 = 0
            return ioctl(readFD, UInt(FIONREAD), &available) == 0 && available >= capacity
        }

        /// Waits (up to 10 s) until the writer has filled the pipe; false when it never did.
        private func waitUntilFull() -> Bool {
            let deadline = MonotonicClock.nowMilliseconds() + 10_000
            while !isFull {
                if MonotonicClock.nowMilliseconds() > deadline { return false }
                sched_yield()
            }
            return true
        }

        /// The bytes read, and how many times the writer had filled the pipe.
        func finish() -> (bytes: [UInt8], fullSeen: Int) {
            thread?.join()
            close(readFD)
            close(writeFD)
            return (received.withLock { $0 }, fullSeen.withLock { $0 })
        }
    }

    static func payload(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) } }

    @Test("writeAll to a full non-blocking pipe (EAGAIN) waits and writes every byte, in order")
    func writeAllAgain() throws {
        let bytes = Self.payload(1 << 20)
        let reader = try FullPipeReader(expected: bytes.count)
        let flags = fcntl(reader.writeFD, F_GETFL)
        try #require(fcntl(reader.writeFD, F_SETFL, flags | O_NONBLOCK) == 0)
        try HostFile.writeAll(reader.writeFD, bytes[...], path: "pipe")
        let (received, fullSeen) = reader.finish()
        #expect(received == bytes)
        #expect(fullSeen == 4, "the writer met a full pipe (EAGAIN) \(fullSeen) times")
    }

    @Test("writeAll interrupted by signals (EINTR, no SA_RESTART) while the pipe is full writes every byte, in order")
    func writeAllInterrupted() throws {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        var previous = sigaction()
        try #require(sigaction(SIGUSR2, &action, &previous) == 0)
        defer { sigaction(SIGUSR2, &previous, nil) }

        let bytes = Self.payload(1 << 20)
        let writer = pthread_self()
        let signalled = Monitor(0)
        // A signal each time the pipe is full and nobody reads: the writer waits in write(2).
        let reader = try FullPipeReader(expected: bytes.count) {
            pthread_kill(writer, SIGUSR2)
            signalled.update { $0 += 1 }
        }
        try HostFile.writeAll(reader.writeFD, bytes[...], path: "pipe")
        let (received, fullSeen) = reader.finish()
        #expect(received == bytes)
        #expect(fullSeen == 4 && signalled.withLock { $0 } == 4, "full \(fullSeen) times, \(signalled.withLock { $0 }) signals while it was")
    }

    @Test("writeAll to a closed socket throws with the path and errno (no SIGPIPE), and says how much went")
    func writeAllFails() throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        close(fds[0])
        defer { close(fds[1]) }
        var written = 0
        do throws(HostFile.FileError) {
            try HostFile.writeAll(fds[1], Self.payload(100)[...], written: &written, path: "the test's socket", socket: true)
            Issue.record("a write to a closed socket succeeded")
        } catch {
            #expect(error.errno == EPIPE && "\(error)".contains("the test's socket"), "\(error)")
        }
        #expect(written == 0)
    }

    @Test("reading a FIFO nobody writes to, or a device, is refused at once as not a regular file; a stream the operator names is read")
    func readRefusesStreams() throws {
        let directory = "/tmp/nodeaudit-hostfile-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try #require(mkdir(directory, 0o700) == 0)
        let fifo = directory + "/pid"
        defer { unlink(fifo); rmdir(directory) }
        try #require(mkfifo(fifo, 0o600) == 0)

        // On a thread of its own: a read that waited would hold it until a writer came.
        let outcome = Monitor<String?>(nil)
        let reader = WorkerThread.start {
            let said: String
            do throws(HostFile.FileError) {
                _ = try HostFile.read(fifo, limit: 64)
                said = "read"
            } catch {
                said = error.description
            }
            outcome.update { $0 = said }
        }
        let said = outcome.wait(until: { $0 != nil }, timeoutMilliseconds: 10_000) { $0 } ?? nil
        // It waits: writers that come and go let it return, so the test ends.
        while outcome.withLock({ $0 == nil }) {
            let writer = open(fifo, O_WRONLY | O_NONBLOCK)
            if writer >= 0 { close(writer) }
            _ = outcome.wait(until: { $0 != nil }, timeoutMilliseconds: 10) { _ in }
        }
        reader.join()
        #expect(said == fifo + ": not a regular file", "the read of a FIFO with no writer: \(said ?? "still waiting after 10 s")")

        do throws(HostFile.FileError) {
            _ = try HostFile.read("/dev/null")
            Issue.record("/dev/null, a device, was read")
        } catch {
            #expect(error.isNotRegularFile)
        }

        // The operator's own stream (`--config /dev/stdin`) is read as it comes.
        let writer = WorkerThread.start {
            let fd = open(fifo, O_WRONLY)
            guard fd >= 0 else { return }
            _ = Array("log: {}\n".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            close(fd)
        }
        let bytes = try HostFile.read(fifo, allowingStreams: true)
        writer.join()
        #expect(bytes == Array("log: {}\n".utf8))
    }
}
