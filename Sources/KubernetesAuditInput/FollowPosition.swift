import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// Where the follower of the API server's log is: the file (device and inode, which a
/// rename keeps) and the byte after the last whole line whose events the outputs settled.
/// Kept in the state directory, so that a restart neither repeats nor skips an event, even
/// when the log was rotated meanwhile.
package struct FollowPosition: Equatable, Sendable, CustomStringConvertible {
    package var device: UInt64
    package var inode: UInt64
    package var offset: Int64

    package static let fileName = "k8s-audit-position"

    package var description: String { "\(device) \(inode) \(offset)" }

    package static func load(directory: String) -> FollowPosition? {
        guard let bytes = try? HostFile.read(directory + "/" + fileName, limit: 256) else { return nil }
        let parts = String(decoding: bytes, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count == 3, let device = UInt64(parts[0]), let inode = UInt64(parts[1]), let offset = Int64(parts[2]), offset >= 0 else {
            return nil
        }
        return FollowPosition(device: device, inode: inode, offset: offset)
    }

    package func save(directory: String) throws(HostFile.FileError) {
        try HostFile.createDirectories(directory)
        try HostFile.write(Array((description + "\n").utf8), to: directory + "/" + Self.fileName)
    }

    /// Where to go on from this position: the file it names (at `path`, or renamed beside
    /// it by the API server's rotation) and the offset; nil when that file is gone.
    package func file(at path: String) -> (path: String, offset: Int64, stamp: FileStamp)? {
        let candidates = [path] + Self.siblings(of: path)
        for candidate in candidates {
            guard let stamp = FileStamp(candidate), stamp.device == device, stamp.inode == inode else { continue }
            return (candidate, stamp.size >= offset ? offset : 0, stamp)
        }
        return nil
    }

    /// The files written after `finished` (a file read to its end), oldest first: those the
    /// API server rotated since (renamed beside `path`, modified later), then `path` itself,
    /// unless it is `finished`. Asked when a file ends, so that rotations made faster than
    /// the follower looks, or while nodeaudit was stopped, skip no file.
    package static func files(after finished: FileStamp, path: String) -> [String] {
        let modified = { (stamp: FileStamp) in (stamp.modifiedSeconds, stamp.modifiedNanoseconds) }
        let rotated = siblings(of: path).compactMap { sibling in FileStamp(sibling).map { (sibling, $0) } }
            .filter { $0.1.inode != finished.inode && modified($0.1) > modified(finished) }
            .sorted { modified($0.1) < modified($1.1) }
            .map(\.0)
        let current = FileStamp(path).map { $0.inode == finished.inode && $0.device == finished.device } == true ? [] : [path]
        return rotated + current
    }

    /// The API server's rotated files beside `path`: NAME-TIMESTAMP.log next to NAME.log,
    /// not compressed.
    private static func siblings(of path: String) -> [String] {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let name = String(path.split(separator: "/").last ?? "")
        let stem = name.hasSuffix(".log") ? String(name.dropLast(4)) : name
        return HostDirectory.entries(directory.isEmpty ? "/" : directory)
            .filter { $0 != name && $0.hasPrefix(stem + "-") && !$0.hasSuffix(".gz") }
            .map { directory + "/" + $0 }
    }
}
