import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// Notices that the rule files changed, by comparing what `stat` says of each (through
/// symlinks) with the previous look: a file added, removed or rewritten, and a Kubernetes
/// ConfigMap update, which swaps the `..data` symlink so that every file resolves to a
/// new inode. Polled from the read loop; a look costs one `stat` per file.
struct RuleFileWatch {
    private let paths: [String]
    private var last: [FileIdentity]

    private struct FileIdentity: Equatable {
        var path: String
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int
        var modifiedNanoseconds: Int
    }

    init(paths: [String]) {
        self.paths = paths
        last = Self.look(paths)
    }

    /// Whether anything changed since the last call (or since `init`).
    mutating func changed() -> Bool {
        let now = Self.look(paths)
        defer { last = now }
        return now != last
    }

    private static func look(_ paths: [String]) -> [FileIdentity] {
        let files = (try? RuleFiles.expand(paths)) ?? paths
        return files.map { file in
            var info = stat()
            guard stat(file, &info) == 0 else { return FileIdentity(path: file, device: 0, inode: 0, size: -1, modified: 0, modifiedNanoseconds: 0) }
            return FileIdentity(path: file, device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                                modified: info.st_mtim.tv_sec, modifiedNanoseconds: info.st_mtim.tv_nsec)
        }
    }
}
