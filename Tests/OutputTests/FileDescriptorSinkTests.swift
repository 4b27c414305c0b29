import Foundation
import Output
import Testing

/// The sink behind stdout, on a real pipe: what reaches the descriptor, and when.
@Suite("the file descriptor sink")
struct FileDescriptorSinkTests {
    /// A pipe whose read end does not block, so a test can see what was written so far.
    final class Pipe {
        let readEnd: Int32
        let writeEnd: Int32

        init() throws {
            var ends: [Int32] = [0, 0]
            try #require(pipe(&ends) == 0)
            readEnd = ends[0]
            writeEnd = ends[1]
            _ = fcntl(readEnd, F_SETFL, fcntl(readEnd, F_GETFL) | O_NONBLOCK)
        }

        deinit {
            close(readEnd)
            close(writeEnd)
        }

        /// Everything written so far.
        func available() -> [UInt8] {
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65536)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                guard count > 0 else { return bytes }
                bytes += chunk[..<count]
            }
        }
    }

    @Test("a large batch handed over whole is written at once; lines and small batches wait for the flush; order is kept")
    func batchesAndLines() throws {
        let pipe = try Pipe()
        let sink = FileDescriptorSink(fd: pipe.writeEnd, name: "pipe")
        let line = QueuedSinkTests.lines(1, tag: "line")
        let large = QueuedSinkTests.lines(3000, tag: "large")
        #expect(large.count >= 16 * 1024 && line.count + large.count < 65536, "above the direct size, within a pipe's buffer")

        try sink.write(line)
        #expect(pipe.available().isEmpty, "a single line is buffered")
        // Something is buffered: the batch goes after it, not before.
        try sink.write(large)
        try sink.flush()
        #expect(pipe.available() == line + large)

        // Nothing buffered: the batch is written by the call itself.
        try sink.write(large)
        #expect(pipe.available() == large)
        try line.withUnsafeBufferPointer { (buffer) throws(SinkError) in try sink.write(contentsOf: buffer) }
        #expect(pipe.available().isEmpty)
        try sink.flush()
        #expect(pipe.available() == line)
    }
}
