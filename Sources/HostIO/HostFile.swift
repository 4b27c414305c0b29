#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reads small host files (/etc/passwd, /proc/…/cgroup) whole, and writes small files
/// (state, installed rules) whole and atomically, without Foundation.
public enum HostFile {
    public struct FileError: Error, CustomStringConvertible {
        public var path: String
        public var errno: Int32
        /// The path names a pipe, a device or a socket where a regular file was wanted.
        public var isNotRegularFile = false
        public var description: String {
            isNotRegularFile ? "\(path): not a regular file" : "\(path): \(SystemError.text(errno))"
        }

        public init(path: String, errno: Int32) {
            self.path = path
            self.errno = errno
        }
    }

    /// Reads a regular file whole, at most `limit` bytes. Never waits: a path may come from
    /// an audited command line (a runtime's `--pid-file`), and a FIFO nobody writes to, a
    /// terminal or another process's pipe (`/proc/PID/fd/N`) would hold the pipeline's
    /// thread for good. They are opened without waiting and refused; `allowingStreams`
    /// reads them, for a file the operator names (`--config /dev/stdin`).
    public static func read(_ path: String, limit: Int = 64 << 20, allowingStreams: Bool = false) throws(FileError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | (allowingStreams ? 0 : O_NONBLOCK))
        guard fd >= 0 else { throw FileError(path: path, errno: errno) }
        defer { close(fd) }
        if !allowingStreams {
            var status = stat()
            guard fstat(fd, &status) == 0 else { throw FileError(path: path, errno: errno) }
            guard status.st_mode & S_IFMT == S_IFREG else {
                var error = FileError(path: path, errno: EINVAL)
                error.isNotRegularFile = true
                throw error
            }
        }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while out.count < limit {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw FileError(path: path, errno: errno)
            }
            if n == 0 { break }
            out.append(contentsOf: chunk[0..<n])
        }
        return out
    }

    /// The target of a symbolic link (`/proc/PID/exe`), at most 4 KiB; nil when it cannot be read.
    public static func linkTarget(_ path: String) -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = buffer.withUnsafeMutableBytes { readlink(path, $0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count) }
        return n >= 0 ? Array(buffer[0..<n]) : nil
    }

    /// Writes `bytes` to a temporary file beside `path`, then renames it over `path`, so a
    /// reader sees the old contents or the new, never a part.
    public static func write(_ bytes: [UInt8], to path: String, mode: mode_t = 0o644) throws(FileError) {
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(path: temporary, errno: errno) }
        do throws(FileError) {
            try writeAll(fd, bytes[...], path: temporary)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        let synced = fsync(fd) == 0 ? 0 : errno
        close(fd)
        guard synced == 0 else { unlink(temporary); throw FileError(path: temporary, errno: synced) }
        guard rename(temporary, path) == 0 else {
            let failed = errno
            unlink(temporary)
            throw FileError(path: path, errno: failed)
        }
    }

    /// Creates `path` and its missing parents (`mkdir -p`).
    public static func createDirectories(_ path: String, mode: mode_t = 0o755) throws(FileError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, mode) != 0, errno != EEXIST { throw FileError(path: prefix, errno: errno) }
        }
    }

    /// Writes all of `bytes` to `fd`: again after EINTR, and after waiting for the
    /// descriptor to take more when it is non-blocking and full (EAGAIN). The one write
    /// loop of nodeaudit; `path` names the destination in the error.
    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, path: String = "output") throws(FileError) {
        var written = 0
        try writeAll(fd, bytes, written: &written, path: path)
    }

    /// `writeAll`, counting in `written` how many bytes went (also when it throws), and
    /// with `send(2)` without SIGPIPE for a socket.
    public static func writeAll(_ fd: Int32, _ bytes: ArraySlice<UInt8>, written: inout Int, path: String,
                                socket: Bool = false) throws(FileError) {
        var failure: FileError?
        var progress = written
        bytes.withUnsafeBytes { raw in
            do throws(FileError) { try writeAll(fd, raw, written: &progress, path: path, socket: socket) } catch { failure = error }
        }
        written = progress
        if let failure { throw failure }
    }

    /// `writeAll` of bytes in place (the output's hot path: no copy).
    public static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, written: inout Int, path: String,
                                socket: Bool = false) throws(FileError) {
        while written < bytes.count {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[written...])
            let count = socket ? send(fd, rest.baseAddress, rest.count, Int32(MSG_NOSIGNAL)) : Glibc.write(fd, rest.baseAddress, rest.count)
            if count < 0 {
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK:
                    var waiting = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&waiting, 1, 1000)
                    continue
                default: throw FileError(path: path, errno: errno)
                }
            }
            written += count
        }
    }
}
