#if canImport(Glibc)
import Glibc
#endif

/// Directory listings without Foundation.
public enum HostDirectory {
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
