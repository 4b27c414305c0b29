import ArgumentParser
import Configuration
import OfflineParse
import Pipeline
import Sigma

/// `nodeaudit sigma`: Sigma detection rules, checked offline.
struct SigmaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigma",
        abstract: "Sigma detection rules: check which load, and why the others are refused.",
        subcommands: [Check.self, Fields.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Load Sigma rule files and directories (.yml, .yaml, recursively) as run --sigma would, offline.",
            discussion: """
                Prints every refused rule as FILE:LINE:COLUMN: reason, then how many rules loaded and \
                how many were refused, grouped by the construct that refused them (a modifier, a \
                condition form, a log source or field nodeaudit does not supply). A rule is loaded \
                whole or not at all. Exits 0 when every rule loaded, 2 when one was refused or a \
                file could not be read. docs/sigma.md lists the log sources and fields.
                """)

        @Argument(help: "Sigma rule files or directories.")
        var paths: [String]

        @Flag(help: "Only the summary, not each refusal.")
        var quiet = false

        func validate() throws {
            guard !paths.isEmpty else { throw ValidationError("name at least one Sigma rule file or directory") }
        }

        func run() throws {
            let set = SigmaRuleSet.load(paths)
            var lines: [String] = []
            if !quiet { lines += set.refusals.map(\.description) }
            lines += set.unreadable.map { "cannot read \($0)" }
            let total = set.rules.count + set.refusals.count
            lines.append("\(set.rules.count) of \(total) rules loaded, \(set.refusals.count) refused"
                + (set.unreadable.isEmpty ? "" : ", \(set.unreadable.count) files unreadable"))
            for (construct, refusals) in set.refusalsByConstruct {
                lines.append("  \(refusals.count) \(construct)")
            }
            print(lines.joined(separator: "\n"))
            if !set.refusals.isEmpty || !set.unreadable.isEmpty { throw ExitCode(ExitStatus.usage.rawValue) }
        }
    }

    struct Fields: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "fields",
            abstract: "Print the fields Sigma rules read of each event of audit logs, per log source: what a rule can match.",
            discussion: """
                One JSON line per event and log source that concerns it (per record for service: auditd): \
                {"event": ID, "logsource": SOURCE, "fields": {NAME: [VALUE, …]}}, with nodeaudit's own \
                dotted fields. Events are built as `parse` builds them (with --ancestry-depth, ParentImage \
                and ParentCommandLine are known).
                """)

        @Argument(help: "Audit log files (plain or gzip); - for stdin.")
        var files: [String]

        @Option(help: .setting(.ancestryDepth))
        var ancestryDepth: String?

        func run() throws {
            var configuration = Configuration()
            do {
                if let ancestryDepth { try configuration.apply(texts: [(.ancestryDepth, ancestryDepth, "--ancestry-depth")]) }
            } catch {
                throw ValidationError(error.description)
            }
            let options = EventOptions(configuration: configuration, onThisHost: false, attribute: false, nodeName: nil)
            guard ParseRun.execute(ParseOptions(files: files, events: options, quiet: true, threads: 1, sigmaFields: true)) else {
                throw ExitCode.failure
            }
        }
    }
}
