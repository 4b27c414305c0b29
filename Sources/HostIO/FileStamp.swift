#if canImport(Glibc)
import Glibc
#endif

/// What tells one version of a file from the next without reading it: device, inode,
/// size and modification time, through symlinks. A file replaced by rename (useradd,
/// a ConfigMap's `..data` swap) has a new inode even when size and time match.
public struct FileStamp: Equatable, Sendable {
    public let device: UInt64
    public let inode: UInt64
    public let size: Int64
    public let modifiedSeconds: Int
    public let modifiedNanoseconds: Int

    /// nil when the file cannot be stat'ed (missing, unreadable).
    public init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        self.init(info)
    }

    /// The file an open descriptor reads, whatever its name is now (renamed, deleted).
    public init?(descriptor: Int32) {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { return nil }
        self.init(info)
    }

    private init(_ info: stat) {
        device = UInt64(info.st_dev)
        inode = UInt64(info.st_ino)
        size = Int64(info.st_size)
        modifiedSeconds = info.st_mtim.tv_sec
        modifiedNanoseconds = info.st_mtim.tv_nsec
    }
}
