import HostIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads a file descriptor in large chunks and hands out its lines without copying the
/// ones that lie within a chunk. Lines longer than `maximumLineBytes` are reported by
/// length and skipped, so a corrupt file cannot exhaust memory.
package struct LineReader {
    package enum Line {
        case text(UnsafeBufferPointer<UInt8>)
        case tooLong(bytes: Int)
    }

    package struct ReadError: Error, CustomStringConvertible {
        package var errno: Int32
        /// Said instead of errno's text when set (a corrupt compressed stream).
        package var message: String?
        package var description: String { message ?? SystemError.text(errno) }

        package init(errno: Int32, message: String? = nil) {
            self.errno = errno
            self.message = message
        }
    }

    private let fd: Int32
    /// Set for a gzip-compressed file: the bytes come decompressed from it.
    private let gzip: GzipReader?
    private let chunkSize: Int
    private let maximumLineBytes: Int

    /// `decompressing`: read the file through gzip (see `GzipReader.isGzip`).
    package init(fd: Int32, chunkSize: Int = 1 << 20, maximumLineBytes: Int, decompressing: Bool = false) throws(ReadError) {
        self.fd = fd
        gzip = decompressing ? try GzipReader(fd: fd) : nil
        self.chunkSize = chunkSize
        self.maximumLineBytes = maximumLineBytes
    }

    /// Whether `fd` is a gzip-compressed file.
    package static func isCompressed(_ fd: Int32) -> Bool { GzipReader.isGzip(fd) }

    /// Calls `body` for every line, in order; returns the bytes read.
    @discardableResult
    package func forEachLine(_ body: (Line) throws -> Void) throws -> UInt64 {
        var chunk = [UInt8](repeating: 0, count: chunkSize)
        var carry: [UInt8] = []
        var carryOverflow = 0  // bytes of an over-long line being skipped
        var total: UInt64 = 0
        while true {
            let n: Int
            if let gzip {
                n = try chunk.withUnsafeMutableBytes { (raw) throws(ReadError) in try gzip.read(into: raw) }
            } else {
                n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw ReadError(errno: errno)
                }
            }
            if n == 0 { break }
            total += UInt64(n)
            try chunk.withUnsafeBufferPointer { buffer in
                var start = 0
                while start < n {
                    guard let newline = Self.indexOfNewline(buffer, from: start, to: n) else {
                        // The line continues in the next chunk.
                        if carryOverflow > 0 || carry.count + (n - start) > maximumLineBytes {
                            carryOverflow += carry.count + n - start
                            carry.removeAll()
                        } else {
                            carry.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<n]))
                        }
                        return
                    }
                    if carryOverflow > 0 {
                        try body(.tooLong(bytes: carryOverflow + newline - start))
                        carryOverflow = 0
                    } else if !carry.isEmpty {
                        carry.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[start..<newline]))
                        try carry.withUnsafeBufferPointer { try body(.text($0)) }
                        carry.removeAll(keepingCapacity: true)
                    } else {
                        try body(.text(UnsafeBufferPointer(rebasing: buffer[start..<newline])))
                    }
                    start = newline + 1
                }
            }
        }
        if carryOverflow > 0 {
            try body(.tooLong(bytes: carryOverflow))
        } else if !carry.isEmpty {
            try carry.withUnsafeBufferPointer { try body(.text($0)) }
        }
        return total
    }

    @inline(__always)
    private static func indexOfNewline(_ b: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let base = b.baseAddress else { return nil }
        guard let found = memchr(base + from, 0x0a, to - from) else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }
}
