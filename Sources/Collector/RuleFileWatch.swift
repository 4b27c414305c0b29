import RuleSync
import HostIO

/// Notices that the rule files changed, by comparing each file's `FileStamp` (through
/// symlinks) with the previous look: a file added, removed or rewritten, and a Kubernetes
/// ConfigMap update, which swaps the `..data` symlink so that every file resolves to a
/// new inode. Polled from the read loop; a look costs one `stat` per file.
package struct RuleFileWatch {
    private let paths: [String]
    private var last: Look

    private struct Look: Equatable {
        package var files: [String]
        package var stamps: [FileStamp?]
    }

    package init(paths: [String]) {
        self.paths = paths
        last = Self.look(paths)
    }

    /// Whether anything changed since the last call (or since `init`).
    package mutating func changed() -> Bool {
        let now = Self.look(paths)
        defer { last = now }
        return now != last
    }

    private static func look(_ paths: [String]) -> Look {
        let files = (try? RuleFiles.expand(paths)) ?? paths
        return Look(files: files, stamps: files.map(FileStamp.init))
    }
}
