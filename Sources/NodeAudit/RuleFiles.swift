import HostIO
import AuditRules
#if canImport(Glibc)
import Glibc
#endif

/// Finds and reads rule files: each argument is a file, or a directory whose `*.rules`
/// files are read in name order (as augenrules does with /etc/audit/rules.d).
public enum RuleFiles {
    public struct LoadError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The files named by `paths`, directories expanded.
    public static func expand(_ paths: [String]) throws(LoadError) -> [String] {
        var files: [String] = []
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                if path == DefaultRules.installedDirectory, errno == ENOENT { throw LoadError(description: DefaultRules.searched) }
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
    public static func wanted(_ paths: [String], allowImmutable: Bool) throws(RuleLoadFailure) -> WantedRules {
        let files: [String]
        do throws(LoadError) { files = try expand(paths) } catch { throw .unreadable(error.description) }
        var statements: [LocatedStatement] = []
        var errors: [RuleError] = []
        for file in files {
            let bytes: [UInt8]
            do throws(HostFile.Failure) { bytes = try HostFile.read(file) } catch { throw .unreadable(error.description) }
            let parsed = RuleFileParser.parse(String(decoding: bytes, as: UTF8.self), file: file)
            statements += parsed.statements
            errors += parsed.errors
        }
        do throws(RuleFileErrors) {
            var wanted = try WantedRules(statements, allowImmutable: allowImmutable)
            for path in paths where DefaultRules.isDirectory(path) && (try? expand([path]))?.isEmpty == true {
                wanted.warnings.insert(RuleError(RuleSource(file: path, line: 0, text: ""), "holds no *.rules file"), at: 0)
            }
            if errors.isEmpty { return wanted }
        } catch {
            errors += error.errors
        }
        let order = Dictionary(files.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        errors.sort { (order[$0.source.file] ?? 0, $0.source.line) < (order[$1.source.file] ?? 0, $1.source.line) }
        throw .invalid(RuleFileErrors(errors: errors))
    }
}

/// Why rule files could not be used.
public enum RuleLoadFailure: Error, CustomStringConvertible {
    case unreadable(String)
    case invalid(RuleFileErrors)

    public var description: String {
        switch self {
        case .unreadable(let message): return message
        case .invalid(let errors): return errors.description
        }
    }
}
