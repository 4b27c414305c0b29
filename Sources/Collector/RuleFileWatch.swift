import RuleSync
import HostIO

/// Notices that rule files (audit rules, Sigma rules) changed, by comparing each file's `FileStamp` (through
/// symlinks) with the previous look: a file added, removed or rewritten, and a Kubernetes
/// ConfigMap update, which swaps the `..data` symlink so that every file resolves to a
/// new inode. Polled from the read loop; a look costs one `stat` per file.
package struct RuleFileWatch {
    private let paths: [String]
    /// The files the paths name (directories listed).
    private let expand: ([String]) -> [String]
    private var last: Look

    private struct Look: Equatable {
        package var files: [String]
        package var stamps: [FileStamp?]
    }

    package init(paths: [String], expand: @escaping ([String]) -> [String] = { (try? RuleFiles.expand($0)) ?? $0 }) {
        self.paths = paths
        self.expand = expand
        last = Self.look(paths, expand)
    }

    /// Whether anything changed since the last call (or since `init`).
    package mutating func changed() -> Bool {
        let now = Self.look(paths, expand)
        defer { last = now }
        return now != last
    }

    private static func look(_ paths: [String], _ expand: ([String]) -> [String]) -> Look {
        let files = expand(paths)
        return Look(files: files, stamps: files.map(FileStamp.init))
    }
}
