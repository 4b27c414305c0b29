import HostIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes lines to an open file descriptor (stdout by default), buffering them so that
/// thousands of events cost a few `write(2)` calls.
public final class FileDescriptorSink: EventSink {
    private let fd: Int32
    private let name: String
    private var pending: [UInt8] = []
    private let flushThreshold: Int

    public init(fd: Int32 = 1, name: String = "stdout", flushThreshold: Int = 256 * 1024) {
        self.fd = fd
        self.name = name
        self.flushThreshold = flushThreshold
        pending.reserveCapacity(flushThreshold + 16 * 1024)
    }

    /// A batch handed over whole (by an output queue, which flushes after each batch it
    /// takes) goes out as it is when nothing waits before it and it is not small: copying
    /// it into the buffer first copied every byte of output once more (perf: 0.6 % of a
    /// busy collector). Single lines (API server events read from a file) still gather.
    public func write(_ lines: [UInt8]) throws(SinkError) {
        try lines.withUnsafeBufferPointer { (lines) throws(SinkError) in try write(contentsOf: lines, directFrom: Self.directBatchBytes) }
    }

    /// The smallest owned batch written without buffering: a few events' worth, so that a
    /// `write(2)` is never made for less.
    static let directBatchBytes = 16 * 1024

    public func write(contentsOf lines: UnsafeBufferPointer<UInt8>) throws(SinkError) {
        try write(contentsOf: lines, directFrom: flushThreshold / 2)
    }

    /// Writes `lines` at once, without buffering them, when nothing is buffered and they
    /// are at least `directBytes` long (a batch as large as the buffer, or one handed over whole).
    private func write(contentsOf lines: UnsafeBufferPointer<UInt8>, directFrom directBytes: Int) throws(SinkError) {
        if pending.isEmpty, lines.count >= directBytes {
            var written = 0
            if let failure = writeAll(UnsafeRawBufferPointer(lines), written: &written) {
                pending.append(contentsOf: lines[written...])  // kept for the next flush
                throw failure
            }
            return
        }
        pending.append(contentsOf: lines)
        if pending.count >= flushThreshold { try flush() }
    }

    /// Writes what is buffered; after a failure, what was not written stays buffered.
    public func flush() throws(SinkError) {
        var written = 0
        let failure = pending.withUnsafeBytes { writeAll($0, written: &written) }
        pending.removeFirst(written)
        if let failure { throw failure }
    }

    /// Writes `bytes` from `written` on, counting in `written`; the error, if any.
    private func writeAll(_ bytes: UnsafeRawBufferPointer, written: inout Int) -> SinkError? {
        do throws(HostFile.FileError) {
            try HostFile.writeAll(fd, bytes, written: &written, path: name)
            return nil
        } catch {
            return SinkError("writing to \(error)")
        }
    }
}
