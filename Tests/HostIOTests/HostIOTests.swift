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

    /// A pipe whose reader takes the bytes on a thread of its own, slowly at first.
    final class SlowReader: @unchecked Sendable {
        let readFD: Int32
        let writeFD: Int32
        private let received = Monitor<[UInt8]>([])
        private var thread: WorkerThread?

        init(expected: Int) throws {
            var fds: [Int32] = [0, 0]
            try #require(pipe(&fds) == 0)
            readFD = fds[0]
            writeFD = fds[1]
            let readFD = readFD, received = received
            thread = WorkerThread.start {
                var buffer = [UInt8](repeating: 0, count: 4096)
                var total = 0
                while total < expected {
                    // Slow enough that the pipe (64 KiB) fills and the writer must wait.
                    if total < 256 * 1024 { usleep(200) }
                    let count = buffer.withUnsafeMutableBytes { read(readFD, $0.baseAddress, $0.count) }
                    if count < 0, errno == EINTR { continue }
                    guard count > 0 else { break }
                    received.update { $0 += buffer[..<count] }
                    total += count
                }
            }
        }

        func finish() -> [UInt8] {
            thread?.join()
            close(readFD)
            close(writeFD)
            return received.withLock { $0 }
        }
    }

    static func payload(_ count: Int) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) } }

    @Test("writeAll to a full non-blocking pipe (EAGAIN) waits and writes every byte, in order")
    func writeAllAgain() throws {
        let bytes = Self.payload(1 << 20)
        let reader = try SlowReader(expected: bytes.count)
        let flags = fcntl(reader.writeFD, F_GETFL)
        try #require(fcntl(reader.writeFD, F_SETFL, flags | O_NONBLOCK) == 0)
        try HostFile.writeAll(reader.writeFD, bytes[...], path: "pipe")
        #expect(reader.finish() == bytes)
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
        let reader = try SlowReader(expected: bytes.count)
        let writer = pthread_self()
        let done = Monitor(false)
        let interrupter = WorkerThread.start {
            while !done.withLock({ $0 }) {
                pthread_kill(writer, SIGUSR2)
                usleep(100)
            }
        }
        defer {
            done.update { $0 = true }
            interrupter.join()
        }
        try HostFile.writeAll(reader.writeFD, bytes[...], path: "pipe")
        #expect(reader.finish() == bytes)
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
}
