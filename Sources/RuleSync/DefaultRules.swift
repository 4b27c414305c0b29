#if canImport(Glibc)
import Glibc
#endif

/// Where nodeaudit finds its rules when none are named, from any working directory: the
/// installed set (`/etc/nodeaudit/rules.d`, written by `nodeaudit rules install`), else the
/// `Rules/` directory shipped with the binary — found by walking up from the binary, as in
/// a source checkout (`.build/release/nodeaudit`) or an install tree
/// (`PREFIX/bin/nodeaudit` with `PREFIX/share/nodeaudit/rules`).
package enum DefaultRules {
    package static let installedDirectory = "/etc/nodeaudit/rules.d"

    /// The rule paths to use for `given`: `given` itself, unless it is only the installed
    /// directory and that does not exist, in which case the shipped rules (when found).
    package static func resolve(_ given: [String]) -> [String] {
        guard given == [installedDirectory], !isDirectory(installedDirectory), let shipped = shippedDirectory() else { return given }
        return [shipped]
    }

    /// Says which places were tried, for the message when no default rules were found.
    package static var searched: String {
        "\(installedDirectory) does not exist (`nodeaudit rules install` creates it) and no Rules/ directory "
            + "was found beside the nodeaudit binary (\(executablePath ?? "unknown")); name rule files with --rules"
    }

    /// The `Rules/` directory that came with this binary, if any.
    package static func shippedDirectory() -> String? {
        guard let executable = executablePath else { return nil }
        var directory = parent(of: executable)
        for _ in 0..<5 {
            for candidate in [directory + "/Rules", directory + "/share/nodeaudit/rules"] where holdsRuleFiles(candidate) {
                return candidate
            }
            guard directory != "/" else { break }
            directory = parent(of: directory)
        }
        return nil
    }

    private static var executablePath: String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    package static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func holdsRuleFiles(_ path: String) -> Bool {
        guard isDirectory(path), let files = try? RuleFiles.expand([path]) else { return false }
        return !files.isEmpty
    }
}
