import HostIO
import AuditRules
#if canImport(Glibc)
import Glibc
#endif

/// Finds and reads rule files: each argument is a file, or a directory whose `*.rules`
/// files are read in name order (as augenrules does with /etc/audit/rules.d).
package enum RuleFiles {
    package struct LoadError: Error, CustomStringConvertible {
        package var description: String
    }

    /// The files named by `paths`, directories expanded.
    package static func expand(_ paths: [String]) throws(LoadError) -> [String] {
        var files: [String] = []
        for path in paths {
            if path == DefaultRules.builtIn {
                files += DefaultRules.builtInFiles
                continue
            }
            var info = stat()
            guard stat(path, &info) == 0 else {
                throw LoadError(description: "\(path): \(SystemError.current)")
            }
            if (info.st_mode & S_IFMT) == S_IFDIR {
                guard access(path, R_OK | X_OK) == 0 else { throw LoadError(description: "\(path): \(SystemError.current)") }
                let base = path.hasSuffix("/") ? path : path + "/"
                files += HostDirectory.entries(path).filter { $0.hasSuffix(".rules") }.sorted().map { base + $0 }
            } else {
                files.append(path)
            }
        }
        return files
    }

    /// Reads and parses every file, then encodes every good line: all errors of all
    /// files, syntax and encoding alike, are reported together in file and line order.
    /// Files are read as one sequence (as augenrules joins them), so a `-c` or `-i` at the
    /// top of the first file holds for the rest.
    package static func wanted(_ paths: [String], allowImmutable: Bool, hostRoot: String = "") throws(RuleLoadError) -> WantedRules {
        let files: [String]
        do throws(LoadError) { files = try expand(paths) } catch { throw .unreadable(error.description) }
        var lines: [ParsedLine] = []
        for file in files {
            lines += RuleFileParser.parseLines(try text(of: file), file: file)
        }
        var wanted: WantedRules
        do throws(InvalidRuleFileError) {
            wanted = try WantedRules(lines: lines, allowImmutable: allowImmutable, hostRoot: hostRoot)
        } catch {
            throw .invalid(error)
        }
        for path in paths where HostDirectory.isDirectory(path) && (try? expand([path]))?.isEmpty == true {
            wanted.warnings.insert(RuleError(RuleSource(file: path, line: 0, text: ""), "holds no *.rules file"), at: 0)
        }
        return wanted
    }
}

extension RuleFiles {
    /// A rule file's text, built in or read from disk.
    package static func text(of file: String) throws(RuleLoadError) -> String {
        if let text = DefaultRules.builtInText(file) { return text }
        do throws(HostFile.FileError) {
            return String(decoding: try HostFile.read(file), as: UTF8.self)
        } catch {
            throw .unreadable(error.description)
        }
    }
}

/// Why rule files could not be used.
package enum RuleLoadError: Error, CustomStringConvertible {
    case unreadable(String)
    case invalid(InvalidRuleFileError)

    package var description: String {
        switch self {
        case .unreadable(let message): return message
        case .invalid(let errors): return errors.description
        }
    }
}
