import ArgumentParser
import Sigma

/// `nodeaudit sigma`: Sigma detection rules, checked offline.
struct SigmaCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sigma",
        abstract: "Sigma detection rules: check which load, and why the others are refused.",
        subcommands: [Check.self])

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
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
}
