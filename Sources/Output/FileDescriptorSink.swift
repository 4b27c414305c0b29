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

    public func write(_ lines: [UInt8]) throws(SinkError) {
        pending.append(contentsOf: lines)
        if pending.count >= flushThreshold { try flush() }
    }

    public func flush() throws(SinkError) {
        var offset = 0
        let count = pending.count
        while offset < count {
            let written = pending.withUnsafeBytes { buffer in
                Glibc.write(fd, buffer.baseAddress! + offset, count - offset)
            }
            if written < 0 {
                if errno == EINTR || errno == EAGAIN { continue }
                let reason = String(cString: strerror(errno))
                pending.removeFirst(offset)
                throw SinkError("writing to \(name): \(reason)")
            }
            offset += written
        }
        pending.removeAll(keepingCapacity: true)
    }
}
