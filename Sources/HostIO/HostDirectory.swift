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
        guard let directory = opendir(path) else { return [] }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name == "." || name == ".." { continue }
            if directoriesOnly, entry.pointee.d_type != UInt8(DT_DIR), entry.pointee.d_type != UInt8(DT_UNKNOWN) { continue }
            names.append(name)
        }
        return names
    }
}
