import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// Where nodeaudit finds its rules when none are named, from any binary in any place: the
/// installed set (`/etc/nodeaudit/rules.d`, written by `nodeaudit rules install` or a
/// package), else the rules built into the binary (Rules/ as it was at build time), so
/// that a binary copied to /usr/local/bin, a package or an image works with no rule files.
package enum DefaultRules {
    package static let installedDirectory = "/etc/nodeaudit/rules.d"
    /// The built-in rules as a rule path: rule files and messages name them
    /// `(built-in)/10-exec.rules`.
    package static let builtIn = "(built-in)"

    /// The rule paths to use for `given`: `given` itself, unless it names nothing or only
    /// the installed directory and that does not exist, in which case the built-in rules.
    package static func resolve(_ given: [String]) -> [String] {
        let named = given.isEmpty ? [installedDirectory] : given
        guard named == [installedDirectory], !HostDirectory.isDirectory(installedDirectory) else { return named }
        return [builtIn]
    }

    /// The built-in files as `(built-in)/NAME` paths, in name order.
    package static var builtInFiles: [String] { EmbeddedRules.files.map { builtIn + "/" + $0.name } }

    /// The text of a built-in file path; nil for any other path.
    package static func builtInText(_ path: String) -> String? {
        guard path.hasPrefix(builtIn + "/") else { return nil }
        let name = path.dropFirst(builtIn.count + 1)
        return EmbeddedRules.files.first { $0.name == name }?.text
    }

    /// The built-in rule files, name and text.
    package static var files: [(name: String, text: String)] { EmbeddedRules.files }
}
