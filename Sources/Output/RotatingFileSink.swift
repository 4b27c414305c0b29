import HostIO
import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Events to a file that never grows past a size: when the next lines would not fit, the
/// file becomes `FILE.1` (the older `FILE.1` becomes `FILE.2`, …) and a new one starts;
/// beyond `generations` old files the oldest is deleted. Files are cut between lines only,
/// so every file is whole JSON lines.
///
/// When someone else moves or deletes the file (logrotate), the next write within a
/// second starts a new one at `path`; `requestReopen()` (SIGHUP) makes it immediate.
public final class RotatingFileSink: EventSink {
    public let path: String
    public let maxBytes: Int
    public let generations: Int
    private var descriptor: Int32 = -1
    private var size = 0
    public private(set) var rotations = 0
    /// The file's identity when opened, and when it was last compared with `path`.
    private var openedInode: (device: UInt64, inode: UInt64) = (0, 0)
    private var nextCheck: UInt64 = 0
    private var reopenGeneration = RotatingFileSink.reopenRequests.load(ordering: .relaxed)
    private static let reopenRequests = Atomic<UInt64>(0)

    /// Every file output opens its path again before its next write (SIGHUP).
    public static func requestReopen() { reopenRequests.add(1, ordering: .relaxed) }

    public init(path: String, maxBytes: Int, generations: Int) throws(SinkError) {
        self.path = path
        self.maxBytes = max(maxBytes, 1)
        self.generations = max(generations, 0)
        try open()
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    public func write(_ lines: [UInt8]) throws(SinkError) {
        try reopenIfMoved()
        func endOfLine(from index: Int) -> Int {
            (lines[index...].firstIndex(of: UInt8(ascii: "\n")) ?? lines.count - 1) + 1
        }
        var start = 0
        while start < lines.count {
            var end = endOfLine(from: start)
            // A line that does not fit starts a new file; one longer than the limit gets a file of its own.
            if size > 0, size + (end - start) > maxBytes { try rotate() }
            while end < lines.count {
                let next = endOfLine(from: end)
                if size + (next - start) > maxBytes { break }
                end = next
            }
            try append(lines[start..<end])
            start = end
        }
    }

    public func flush() throws(SinkError) {}

    private func append(_ bytes: ArraySlice<UInt8>) throws(SinkError) {
        do throws(HostFile.FileError) {
            try HostFile.writeAll(descriptor, bytes, path: path)
        } catch {
            throw SinkError("writing to \(error)")
        }
        size += bytes.count
    }

    private func open() throws(SinkError) {
        descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else { throw SinkError("cannot open \(path): \(SystemError.current)") }
        var info = stat()
        size = fstat(descriptor, &info) == 0 ? Int(info.st_size) : 0
        openedInode = (UInt64(info.st_dev), UInt64(info.st_ino))
    }

    /// Opens `path` again when a reopen was requested, or (checked once a second) when
    /// the file there is no longer the one written to.
    private func reopenIfMoved() throws(SinkError) {
        let requested = Self.reopenRequests.load(ordering: .relaxed)
        var moved = requested != reopenGeneration
        let now = MonotonicClock.nowMilliseconds()
        if !moved, now >= nextCheck {
            nextCheck = now + 1000
            var info = stat()
            moved = stat(path, &info) != 0 || (UInt64(info.st_dev), UInt64(info.st_ino)) != openedInode
        }
        guard moved else { return }
        reopenGeneration = requested
        close(descriptor)
        descriptor = -1
        try open()
    }

    /// FILE.N-1 → FILE.N … FILE → FILE.1, the oldest beyond `generations` deleted.
    private func rotate() throws(SinkError) {
        close(descriptor)
        descriptor = -1
        if generations == 0 {
            unlink(path)
        } else {
            unlink("\(path).\(generations)")
            for generation in stride(from: generations - 1, through: 1, by: -1) {
                rename("\(path).\(generation)", "\(path).\(generation + 1)")
            }
            rename(path, "\(path).1")
        }
        rotations += 1
        try open()
    }
}
