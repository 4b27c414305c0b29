import HostIO

/// The Sigma rules of files and directories, with every refusal: what `sigma check`
/// prints and what `run --sigma` and `parse --sigma` load.
package struct SigmaRuleSet: Sendable {
    package private(set) var rules: [SigmaRule] = []
    /// Correlation rules whose rules and group-by fields were all found.
    package private(set) var correlations: [SigmaCorrelation] = []
    package private(set) var refusals: [SigmaError] = []
    /// Files that could not be read (path and reason).
    package private(set) var unreadable: [String] = []

    package init() {}

    /// Loads `paths`: files, and directories read recursively for `.yml` and `.yaml`
    /// files, in name order (the same order on every node).
    package static func load(_ paths: [String]) -> SigmaRuleSet {
        var set = SigmaRuleSet()
        for path in paths {
            for file in files([path]) {
                do throws(HostFile.FileError) {
                    let text = try HostFile.read(file, limit: SigmaLoader.maxFileBytes + 1)
                    let loaded = SigmaLoader.load(String(decoding: text, as: UTF8.self), file: file)
                    set.rules += loaded.rules
                    set.correlations += loaded.correlations
                    set.refusals += loaded.refusals
                } catch {
                    set.unreadable.append("\(file): \(error)")
                }
            }
        }
        set.resolveCorrelations()
        return set
    }

    /// Keeps the correlations whose rules are loaded (by `name` or `id`, from any file) and
    /// whose group-by fields each rule's log source supplies; refuses the others.
    private mutating func resolveCorrelations() {
        correlations = correlations.filter { correlation in
            let mark = correlation.referenceMark
            func refuse(_ construct: String, _ message: String) -> Bool {
                refusals.append(SigmaError(file: correlation.file, line: mark.line, column: mark.column, construct: construct, message: message))
                return false
            }
            for reference in correlation.references {
                guard let rule = rules.first(where: { $0.name == reference || $0.id == reference }) else {
                    return refuse("correlation reference", "`\(reference)` names no loaded rule (by name or id)")
                }
                for field in correlation.groupBy where SigmaFields.number(of: field, in: rule.logSource) == nil {
                    return refuse("field \(field) in \(rule.logSource.rawValue)", "group-by `\(field)`: the \(rule.logSource.rawValue) log source of `\(reference)` has no such field")
                }
            }
            return true
        }
    }

    /// The rule files `paths` name: files as they are, directories' `.yml` and `.yaml`
    /// files, recursively, in name order.
    package static func files(_ paths: [String]) -> [String] {
        paths.flatMap { files(at: $0, depth: 0) }
    }

    /// Directories 16 deep at most: a symbolic link to a parent must not loop.
    private static func files(at path: String, depth: Int) -> [String] {
        guard HostDirectory.isDirectory(path) else { return [path] }
        guard depth < 16 else { return [] }
        var found: [String] = []
        for (name, isDirectory) in HostDirectory.typedEntries(path).sorted(by: { $0.name < $1.name }) where !name.hasPrefix(".") {
            let child = path.hasSuffix("/") ? path + name : path + "/" + name
            if isDirectory ?? HostDirectory.isDirectory(child) {
                found += files(at: child, depth: depth + 1)
            } else if name.hasSuffix(".yml") || name.hasSuffix(".yaml") {
                found.append(child)
            }
        }
        return found
    }

    /// Every refusal and unreadable file, as said: what a reload compares.
    package var problems: Set<String> {
        Set(refusals.map(\.description) + unreadable)
    }

    /// The refusals grouped by construct, the most frequent first (ties by name).
    package var refusalsByConstruct: [(construct: String, refusals: [SigmaError])] {
        Dictionary(grouping: refusals, by: \.construct).map { ($0.key, $0.value) }
            .sorted { ($0.1.count, $1.0) > ($1.1.count, $0.0) }
    }
}
