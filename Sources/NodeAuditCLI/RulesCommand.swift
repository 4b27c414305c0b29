import ArgumentParser
import NodeAudit

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, compare and load kernel audit rules written in auditctl syntax.",
        discussion: """
            Rule files use auditctl's syntax (-a, -A, -d, -w, -W, -F, -S, -C, -k, -p, -D, -b, \
            -f, -r, -e, --backlog_wait_time, --reset-lost, comments). A directory argument \
            means every *.rules file in it, in name order. Rules are compared with the \
            kernel's in canonical form (`auditctl -l` form), so the same rule written two \
            ways is one rule.

            Exit status: 0 success (nothing to change), 1 failure (the kernel refused), \
            2 a bad rule file or command line (nothing was changed), 3 drift (diff, --dry-run).
            """,
        subcommands: [Check.self, Diff.self, Apply.self, List.self, Delete.self, Install.self]
    )

    struct Files: ParsableArguments {
        @Argument(help: ArgumentHelp(
            "Rule files or directories of *.rules files.",
            discussion: "Default: \(DefaultRules.installedDirectory) (see `rules install`), else the Rules/ shipped with nodeaudit."))
        var given: [String] = []

        var paths: [String] { DefaultRules.resolve(given.isEmpty ? [DefaultRules.installedDirectory] : given) }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check rule files offline (no root needed): every error with file:line.")
        @OptionGroup var files: Files
        func run() throws { try finish(RulesRun().check(files.paths)) }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what `apply` would change: '+' missing rules, '-' extra rules, '~' settings. Exits 1 on drift.")
        @OptionGroup var files: Files
        @Flag(help: "Count rules the files do not name as drift (as if the files began with -D).")
        var prune = false
        func run() throws { try finish(RulesRun(prune: prune).diff(files.paths)) }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make the kernel hold the files' rules and settings; print each change. A second apply changes nothing.")
        @OptionGroup var files: Files
        @Flag(help: "Also remove rules the files do not name (as if the files began with -D).")
        var prune = false
        @Flag(help: "Print the plan and change nothing.")
        var dryRun = false
        @Flag(help: "Allow -e 2 and --loginuid-immutable, which lock audit settings until reboot.")
        var allowImmutable = false
        func run() throws {
            try finish(RulesRun(allowImmutable: allowImmutable, prune: prune).apply(files.paths, dryRun: dryRun))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the kernel's rules in auditctl form.")
        func run() throws { try finish(RulesRun().list()) }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy the rules shipped with nodeaudit (Rules/) into \(DefaultRules.installedDirectory), the default rule directory.",
            discussion: "Files that already exist there with other contents are kept unless --force is given; edit the copies, not the shipped files.")
        @Option(help: "The directory to install into.")
        var to: String = DefaultRules.installedDirectory
        @Flag(help: "Overwrite installed files that differ from the shipped ones.")
        var force = false
        func run() throws { try finish(RulesRun().install(into: to, force: force)) }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove from the kernel the rules the files name; other rules stay.")
        @OptionGroup var files: Files
        func run() throws { try finish(RulesRun().delete(files.paths)) }
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Print the kernel's audit status (enabled, pid, backlog, lost, …).")
    @Flag(help: "One JSON object instead of `name value` lines.")
    var json = false
    func run() throws { try finish(RulesRun().status(json: json)) }
}

/// Ends the command with the outcome's exit status.
func finish(_ outcome: ExitStatus) throws {
    if outcome != .success { throw ExitCode(outcome.rawValue) }
}
