import CZlib
#if canImport(Glibc)
import Glibc
#endif

/// The bytes of a gzip-compressed file, decompressed as they are read, so that rotated
/// logs (`audit.log.1.gz`) are parsed as they lie; concatenated members (as `cat a.gz b.gz`
/// makes) are read one after another. A corrupt stream is a read error, not garbage.
package final class GzipReader {
    private let fd: Int32
    private var stream = z_stream()
    private let input: UnsafeMutablePointer<UInt8>
    private static let inputBytes = 1 << 16
    private var atEnd = false
    /// Input went into the current member and its end has not come yet.
    private var inMember = false

    /// Whether the file at `fd` starts with gzip's magic bytes (read with pread: nothing
    /// is consumed; false for a pipe).
    package static func isGzip(_ fd: Int32) -> Bool {
        var magic: (UInt8, UInt8) = (0, 0)
        let count = withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) }
        return count == 2 && magic == (0x1f, 0x8b)
    }

    package init(fd: Int32) throws(LineReader.ReadError) {
        self.fd = fd
        input = .allocate(capacity: Self.inputBytes)
        guard nodeaudit_inflate_init(&stream) == Z_OK else {
            input.deallocate()
            throw LineReader.ReadError(errno: ENOMEM)
        }
    }

    deinit {
        inflateEnd(&stream)
        input.deallocate()
    }

    /// Fills `buffer` with decompressed bytes; 0 at the end of the data.
    package func read(into buffer: UnsafeMutableRawBufferPointer) throws(LineReader.ReadError) -> Int {
        guard let out = buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), buffer.count > 0 else { return 0 }
        stream.next_out = out
        stream.avail_out = UInt32(clamping: buffer.count)
        while stream.avail_out > 0 {
            if stream.avail_in == 0 {
                if atEnd { break }
                let count = Glibc.read(fd, input, Self.inputBytes)
                if count < 0 {
                    if errno == EINTR { continue }
                    throw LineReader.ReadError(errno: errno)
                }
                if count == 0 {
                    atEnd = true
                    if inMember { throw LineReader.ReadError(errno: EIO, message: "the gzip stream ends early (a file cut short?)") }
                    break
                }
                stream.next_in = input
                stream.avail_in = UInt32(count)
                inMember = true
            }
            switch inflate(&stream, Z_NO_FLUSH) {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                // Another member may follow in the same file.
                inMember = stream.avail_in > 0
                guard inflateReset(&stream) == Z_OK else { throw LineReader.ReadError(errno: EIO, message: "the gzip stream cannot go on") }
            default:
                throw LineReader.ReadError(errno: EILSEQ, message: "not a valid gzip stream (\(stream.msg.map { String(cString: $0) } ?? "corrupt data"))")
            }
        }
        return buffer.count - Int(stream.avail_out)
    }
}
