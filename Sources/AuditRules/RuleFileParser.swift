import CAudit

/// A statement with the line it came from.
package struct LocatedStatement: Sendable, Equatable {
    package var statement: RuleStatement
    package var source: RuleSource

    package init(_ statement: RuleStatement, _ source: RuleSource) {
        self.statement = statement
        self.source = source
    }
}

/// One line's worth of a parsed rule file: a statement, or why the line is wrong.
package enum ParsedLine: Sendable, Equatable {
    case statement(LocatedStatement)
    case error(RuleError)
}

/// Reads auditctl rule files: the options auditctl accepts in `-R` files, with the same
/// rules about what may follow what, and an error with `file:line` for every line that
/// is wrong (not only the first), so a whole file can be fixed in one pass.
package enum RuleFileParser {
    /// Parses the text of one file: the statements of its good lines and an error for
    /// each bad line, so that later checks (encoding) can report on the good lines too.
    package static func parse(_ text: String, file: String) -> (statements: [LocatedStatement], errors: [RuleError]) {
        var statements: [LocatedStatement] = []
        var errors: [RuleError] = []
        for line in parseLines(text, file: file) {
            switch line {
            case .statement(let statement): statements.append(statement)
            case .error(let error): errors.append(error)
            }
        }
        return (statements, errors)
    }

    /// Parses the text of one file into its lines' statements and errors, in file order:
    /// an error counts as a skipped line only after a `-c` or `-i` that comes before it.
    package static func parseLines(_ text: String, file: String) -> [ParsedLine] {
        var lines: [ParsedLine] = []
        var lineNumber = 0
        // Lines end at each LF byte (a CR before it is a blank to the tokenizer), as in auditctl.
        for rawLine in text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let words = RuleLineTokenizer.words(Substring(rawLine))
            guard let first = words.first, !first.hasPrefix("#") else { continue }
            let source = RuleSource(file: file, line: lineNumber, text: words.joined(separator: " "))
            // libaudit and the kernel take C strings: a NUL would silently cut a path or key.
            guard !rawLine.contains("\0") else {
                lines.append(.error(RuleError(source, "a rule line cannot contain a NUL byte")))
                continue
            }
            do throws(RuleError) {
                for statement in try parseLine(words, source: source) {
                    lines.append(.statement(LocatedStatement(statement, source)))
                }
            } catch {
                lines.append(.error(error))
            }
        }
        return lines
    }

    /// Parses the words of one line.
    package static func parseLine(_ words: [String], source: RuleSource) throws(RuleError) -> [RuleStatement] {
        var line = LineState(source: source)
        var index = 0
        while index < words.count {
            let word = words[index]
            index += 1
            guard word.hasPrefix("-"), word.count >= 2 else {
                throw RuleError(source, "'\(word)' is not an option (options start with '-')")
            }
            if word.hasPrefix("--") {
                let body = word.dropFirst(2)
                let name = String(body.split(separator: "=", maxSplits: 1).first ?? "")
                var inlineValue: String? = nil
                if let eq = body.firstIndex(of: "=") { inlineValue = String(body[body.index(after: eq)...]) }
                func value() throws(RuleError) -> String {
                    if let inlineValue { return inlineValue }
                    guard index < words.count else { throw RuleError(source, "--\(name) needs a value") }
                    index += 1
                    return words[index - 1]
                }
                try line.longOption(name, value: value)
                continue
            }
            let letters = Array(word.dropFirst())
            let option = letters[0]
            if Self.optionsWithValue.contains(option) {
                let value: String
                if letters.count > 1 {
                    value = String(letters[1...])
                } else {
                    guard index < words.count else { throw RuleError(source, "-\(option) needs a value") }
                    value = words[index]
                    index += 1
                }
                try line.option(option, value: value)
            } else {
                // Flags may be grouped (`-ci`).
                for flag in letters { try line.flag(flag) }
            }
        }
        return try line.finish()
    }

    static let optionsWithValue: Set<Character> = ["C", "e", "f", "r", "b", "a", "A", "d", "S", "F", "m", "R", "w", "W", "k", "p", "q"]

    /// Parses `list,action` or `action,list`, as auditctl accepts both orders.
    static func listAndAction(_ text: String, source: RuleSource) throws(RuleError) -> (list: Int32, action: Int32) {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 else {
            throw RuleError(source, "'\(text)' should be LIST,ACTION (for example exit,always)")
        }
        func action(_ word: String) -> Int32? {
            switch word {
            case "always": return Int32(AUDIT_ALWAYS)
            case "never": return Int32(AUDIT_NEVER)
            default: return nil
            }
        }
        func list(_ word: String) -> Int32? {
            let flag = audit_name_to_flag(word)
            return flag >= 0 ? flag : nil
        }
        if parts.contains("possible") {
            throw RuleError(source, "the 'possible' action is deprecated and no longer supported; use always or never")
        }
        if let a = action(parts[0]), let l = list(parts[1]) { return (l, a) }
        if let l = list(parts[0]), let a = action(parts[1]) { return (l, a) }
        throw RuleError(source, "unknown list or action in '\(text)' (lists: exit, task, user, exclude, filesystem, io_uring; actions: always, never)")
    }

    /// A number as auditctl reads it (decimal, or hex with 0x), within 32 bits.
    static func unsigned(_ text: String, option: String, source: RuleSource) throws(RuleError) -> UInt32 {
        let value: UInt32?
        if text.hasPrefix("0x") || text.hasPrefix("0X") {
            value = UInt32(text.dropFirst(2), radix: 16)
        } else {
            value = UInt32(text)
        }
        guard let value else { throw RuleError(source, "\(option) takes a number from 0 to 4294967295, not '\(text)'") }
        return value
    }
}

/// Every error of a rule file.
package struct InvalidRuleFileError: Error, Sendable, CustomStringConvertible {
    package var errors: [RuleError]

    package init(errors: [RuleError]) {
        self.errors = errors
    }

    package var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// What one line has said so far.
private struct LineState {
    enum Kind { case add, prepend, delete }
    let source: RuleSource
    var kind: Kind?
    var list: Int32?
    var action: Int32?
    var isWatch = false
    var parts: [RulePart] = []
    var statements: [RuleStatement] = []
    var deleteAll = false
    var deleteAllKey: String?
    var keyBytes = 0

    init(source: RuleSource) {
        self.source = source
    }

    private func error(_ message: String) -> RuleError { RuleError(source, message) }

    mutating func longOption(_ name: String, value: () throws(RuleError) -> String) throws(RuleError) {
        switch name {
        case "backlog_wait_time":
            statements.append(.setting(.backlogWaitTime(
                try RuleFileParser.unsigned(try value(), option: "--backlog_wait_time", source: source))))
        case "reset-lost":
            statements.append(.resetLost)
        case "loginuid-immutable":
            statements.append(.loginuidImmutable)
        default:
            throw error("--\(name) is not an option of audit rule files")
        }
    }

    mutating func flag(_ flag: Character) throws(RuleError) {
        switch flag {
        case "D":
            deleteAll = true
        case "c":
            statements.append(.errorPolicy(.continueOnError))
        case "i":
            statements.append(.errorPolicy(.ignoreErrors))
        case "l", "s", "v", "h", "t":
            throw error("-\(flag) is a command of auditctl, not a rule; it has no place in a rule file")
        default:
            throw error("unknown option -\(flag)")
        }
    }

    mutating func option(_ option: Character, value: String) throws(RuleError) {
        switch option {
        case "a", "A", "d":
            guard kind == nil else { throw error("only one of -a, -A, -d, -w or -W may be given on a line") }
            let (list, action) = try RuleFileParser.listAndAction(value, source: source)
            kind = option == "a" ? .add : option == "A" ? .prepend : .delete
            self.list = list
            self.action = action
        case "w", "W":
            guard kind == nil else {
                throw error("a watch (-\(option)) cannot be combined with -a, -A or -d on one line; use -F path= or -F dir= instead")
            }
            try checkWatchPath(value)
            kind = option == "w" ? .add : .delete
            list = Int32(AUDIT_FILTER_EXIT)
            action = Int32(AUDIT_ALWAYS)
            isWatch = true
            parts.append(.watch(value))
        case "S":
            parts.append(.syscalls(value))
        case "F":
            guard kind != nil else { throw error("-F needs -a, -A or -d before it on the line") }
            if let key = value.afterBytePrefix("key=") {
                try addKey(key)
            } else {
                // The kernel takes only absolute watch paths, whichever way they are written.
                // libaudit reads field names without regard to case (`-F Dir=`); the kernel
                // takes a watched path only absolute and with `=`.
                let name = String(decoding: value.utf8.prefix { $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }, as: UTF8.self)
                if ["path", "dir"].contains(name.lowercased()) {
                    guard let path = value.afterBytePrefix(name + "="), !path.hasPrefix("=") else {
                        throw error("-F \(name.lowercased()) takes only '=': '\(value)'")
                    }
                    try checkWatchPath(path)
                }
                parts.append(.field(value))
            }
        case "C":
            guard kind != nil else { throw error("-C needs -a, -A or -d before it on the line") }
            parts.append(.comparison(value))
        case "p":
            guard kind != nil else { throw error("-p needs a watch (-w) before it on the line") }
            guard value.count <= 4, !value.isEmpty,
                  value.lowercased().allSatisfy({ "rwxa".contains($0) }) else {
                throw error("-p takes permissions from r, w, x and a, not '\(value)'")
            }
            parts.append(.permissions(value))
        case "k":
            if deleteAll {
                guard deleteAllKey == nil else { throw error("-D takes one -k") }
                deleteAllKey = value
                return
            }
            guard kind != nil else { throw error("-k needs a rule (-a, -A, -d or -w) before it on the line") }
            try addKey(value)
        case "e":
            guard let v = UInt32(value), v <= 2 else { throw error("-e takes 0 (disable), 1 (enable) or 2 (lock), not '\(value)'") }
            statements.append(.setting(.enabled(v)))
        case "f":
            guard let v = UInt32(value), v <= 2 else { throw error("-f takes 0 (silent), 1 (printk) or 2 (panic), not '\(value)'") }
            statements.append(.setting(.failure(v)))
        case "r":
            statements.append(.setting(.rateLimit(try RuleFileParser.unsigned(value, option: "-r", source: source))))
        case "b":
            statements.append(.setting(.backlogLimit(try RuleFileParser.unsigned(value, option: "-b", source: source))))
        case "R":
            throw error("-R (read another rule file) cannot be nested in a rule file; list the files instead")
        case "m", "q":
            throw error("-\(option) is a command of auditctl, not a rule; it has no place in a rule file")
        default:
            throw error("unknown option -\(option)")
        }
    }

    private func checkWatchPath(_ path: String) throws(RuleError) {
        guard path.utf8.first == UInt8(ascii: "/") else { throw error("the watch path must start with '/': '\(path)'") }
        guard path.utf8.count < 4096 else { throw error("the watch path is longer than PATH_MAX (4096 bytes)") }
        guard (path.utf8.split(separator: UInt8(ascii: "/")).last?.count ?? 0) <= 255 else {
            throw error("the last component of the watch path is longer than NAME_MAX (255 bytes)")
        }
    }

    private mutating func addKey(_ key: String) throws(RuleError) {
        guard !key.isEmpty else { throw error("a key cannot be empty") }
        guard !key.utf8.contains(UInt8(AUDIT_KEY_SEPARATOR)) else { throw error("a key cannot contain the byte 0x01") }
        keyBytes += key.utf8.count + (keyBytes > 0 ? 1 : 0)
        guard keyBytes <= Int(AUDIT_MAX_KEY_LEN) else {
            throw error("the keys of a rule are longer than \(AUDIT_MAX_KEY_LEN) bytes together")
        }
        parts.append(.key(key))
    }

    func finish() throws(RuleError) -> [RuleStatement] {
        var result = statements
        if deleteAll {
            guard kind == nil, parts.isEmpty else { throw error("-D takes only -k KEY") }
            result.append(.deleteAll(key: deleteAllKey))
            return result
        }
        guard let kind, let list, let action else {
            if parts.isEmpty { return result }
            throw error("-S, -F, -C, -p and -k need -a, -A, -d or -w on the same line")
        }
        let usesSyscalls = parts.contains { if case .syscalls = $0 { return true } else { return false } }
        if usesSyscalls {
            switch list {
            case Int32(AUDIT_FILTER_TASK), Int32(AUDIT_FILTER_USER), Int32(AUDIT_FILTER_FS), Int32(AUDIT_FILTER_EXCLUDE):
                let name = audit_flag_to_name(list).map { String(cString: $0) } ?? "\(list)"
                throw error("syscalls (-S) cannot be audited on the \(name) list")
            default: break
            }
        }
        let spec = RuleSpec(list: list, action: action, parts: parts)
        switch kind {
        case .add: result.append(.add(spec, prepend: false))
        case .prepend: result.append(.add(spec, prepend: true))
        case .delete: result.append(.delete(spec))
        }
        return result
    }
}

extension String {
    /// The rest after `prefix`, compared byte by byte as libaudit and the kernel do (a
    /// combining mark after `=` would make a grapheme-wise comparison miss it).
    func afterBytePrefix(_ prefix: String) -> String? {
        guard utf8.starts(with: prefix.utf8) else { return nil }
        return String(decoding: utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
    }
}
