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

    /// The files to read, in order, to go on from this position: the one it names, at its
    /// offset (it may have been rotated: renamed beside `path`), then every rotated file
    /// written after it, then `path`. Empty when the named file is gone.
    package func continuation(of path: String) -> [(path: String, offset: Int64)] {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let name = String(path.split(separator: "/").last ?? "")
        let stem = name.hasSuffix(".log") ? String(name.dropLast(4)) : name
        if let current = FileStamp(path), current.device == device, current.inode == inode {
            return [(path, current.size >= offset ? offset : 0)]
        }
        // The API server's own rotation: NAME-TIMESTAMP.log beside NAME.log, not compressed.
        let siblings = HostDirectory.entries(directory.isEmpty ? "/" : directory)
            .filter { $0 != name && $0.hasPrefix(stem + "-") && !$0.hasSuffix(".gz") }
            .map { (directory + "/" + $0) }
            .compactMap { sibling in FileStamp(sibling).map { (sibling, $0) } }
        guard let named = siblings.first(where: { $0.1.device == device && $0.1.inode == inode }) else { return [] }
        let modified = { (stamp: FileStamp) in (stamp.modifiedSeconds, stamp.modifiedNanoseconds) }
        let later = siblings.filter { $0.0 != named.0 && modified($0.1) > modified(named.1) }.sorted { modified($0.1) < modified($1.1) }
        return [(named.0, named.1.size >= offset ? offset : 0)] + later.map { ($0.0, Int64(0)) } + [(path, 0)]
    }
}
