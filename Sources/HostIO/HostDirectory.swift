#if canImport(Glibc)
import Glibc
#endif

/// Directory listings without Foundation.
public enum HostDirectory {
    /// Whether `path` is a directory (a symbolic link to one counts).
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    /// The names in a directory, without `.` and `..`; empty when it cannot be read.
    public static func entries(_ path: String, directoriesOnly: Bool = false) -> [String] {
        typedEntries(path).filter { !directoriesOnly || $0.isDirectory != false }.map(\.name)
    }

    /// The names in a directory with what the listing says of each: a directory (true),
    /// something else (false), or not known without a `stat` (nil: a symbolic link, or a
    /// file system that does not say). Watches that look every second spare a `stat` per file.
    public static func typedEntries(_ path: String) -> [(name: String, isDirectory: Bool?)] {
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var entries: [(name: String, isDirectory: Bool?)] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            let type = entry.pointee.d_type
            entries.append((name, type == UInt8(DT_DIR) ? true : type == UInt8(DT_LNK) || type == UInt8(DT_UNKNOWN) ? nil : false))
        }
        return entries
    }
}
