import RuleSync
import ArgumentParser
import Configuration
import Pipeline
import HostIO

struct RulesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "Check, compare and load kernel audit rules written in auditctl syntax.",
        discussion: """
            Rule files use auditctl's syntax (-a, -A, -d, -w, -W, -F, -S, -C, -k, -p, -D, -b, \
            -f, -r, -e, -c, -i, --backlog_wait_time, --reset-lost, comments). A directory \
            argument means every *.rules file in it, in name order, read as one file. Rules \
            are compared with the kernel's in canonical form (`auditctl -l` form), so the \
            same rule written two ways is one rule, and the kernel ends with the order \
            `auditctl -R` would leave.

            A bad line changes nothing, unless -c or -i came before it: then it is skipped \
            (a warning when only this host lacks what it names: a user, a directory, a \
            syscall) and the rest load, as with auditctl.

            Exit status: 0 success (nothing to change), 1 failure (the kernel refused, or \
            lines were skipped under -c), 2 a bad rule file or command line (nothing was \
            changed), 3 drift (diff, --dry-run).
            """,
        subcommands: [Check.self, Diff.self, Apply.self, List.self, Delete.self, Install.self, Show.self]
    )

    struct Files: ParsableArguments {
        @Argument(help: ArgumentHelp(
            "Rule files or directories of *.rules files.",
            discussion: "Default: \(DefaultRules.installedDirectory) (see `rules install`), else the rules built into nodeaudit (`rules show --defaults`)."))
        var given: [String] = []

        @Option(name: .customLong("host-root"), help: ArgumentHelp(
            "Where the node's / is mounted, when not at / (in the DaemonSet's pod: /host).",
            discussion: "Watches are checked and added there, as `run` does with \(Setting.hostRoot.key)."))
        var hostRoot: String?

        var paths: [String] { DefaultRules.resolve(given) }

        /// `--host-root`, else the configuration's (`$\(Configuration.fileVariable)`,
        /// `$\(Setting.hostRoot.environmentName)`); empty for `/`.
        func root() throws -> String {
            let flags = hostRoot.map { [(Setting.hostRoot, $0, "--host-root")] } ?? []
            return try ConfigurationLayers.load(file: nil, flags: flags).hostRoot
        }
    }

    /// Where the record of the rules nodeaudit loaded is kept.
    struct State: ParsableArguments {
        @Option(name: .customLong("state-directory"), help: ArgumentHelp(
            "Where nodeaudit records the rules it loaded and the settings it found.",
            discussion: "Default: \(Setting.stateDirectory.key) of the configuration ($\(Configuration.fileVariable), "
                + "$\(Setting.stateDirectory.environmentName)), as `run` uses it."))
        var directory: String?

        func path() throws -> String {
            let flags = directory.map { [(Setting.stateDirectory, $0, "--state-directory")] } ?? []
            return try ConfigurationLayers.load(file: nil, flags: flags).text(.stateDirectory)
        }
    }

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Check rule files offline (no root needed): every error with file:line.")
        @OptionGroup var files: Files
        func run() throws { try finish(RulesRun(hostRoot: try files.root()).check(files.paths)) }
    }

    struct Diff: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "diff",
            abstract: "Show what `apply` would change: '+' missing rules, '-' extra rules, '~' settings. Exits 1 on drift.")
        @OptionGroup var files: Files
        @Flag(help: "Count rules the files do not name as drift (as if the files began with -D).")
        var prune = false
        func run() throws { try finish(RulesRun(prune: prune, hostRoot: try files.root()).diff(files.paths)) }
    }

    struct Apply: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "apply",
            abstract: "Make the kernel hold the files' rules and settings; print each change. A second apply changes nothing.")
        @OptionGroup var files: Files
        @Flag(help: "Also remove rules the files do not name (as if the files began with -D).")
        var prune = false
        @Flag(help: "Print the plan and change nothing.")
        var dryRun = false
        @Flag(help: "Allow -e 2 and --loginuid-immutable, which lock audit settings until reboot.")
        var allowImmutable = false
        @OptionGroup var state: State
        func run() throws {
            try finish(RulesRun(allowImmutable: allowImmutable, prune: prune, stateDirectory: try state.path(), hostRoot: try files.root())
                .apply(files.paths, dryRun: dryRun))
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the kernel's rules in auditctl form.")
        func run() throws { try finish(RulesRun().list()) }
    }

    struct Install: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install",
            abstract: "Write the rules built into nodeaudit into \(DefaultRules.installedDirectory), the default rule directory.",
            discussion: """
                The built-in rules are the repository's Rules/ as they were when this binary was built; they are used \
                when no rules are named and \(DefaultRules.installedDirectory) does not exist. Install them to edit them: \
                files that already exist there with other contents are kept unless --force is given.
                """)
        @Option(help: "The directory to install into.")
        var to: String = DefaultRules.installedDirectory
        @Flag(help: "Overwrite installed files that differ from the built-in ones.")
        var force = false
        func run() throws { try finish(RulesRun().install(into: to, force: force)) }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the rule files nodeaudit would use (each after a `## FILE` line), or with --defaults the built-in ones.")
        @Argument(help: ArgumentHelp("Rule files or directories of *.rules files.", discussion: "Default: as for `rules check`."))
        var given: [String] = []
        @Flag(help: "The rules built into this binary, whatever is installed.")
        var defaults = false
        func validate() throws {
            if defaults, !given.isEmpty { throw ValidationError("--defaults shows the built-in rules; give either files or --defaults") }
        }
        func run() throws {
            let paths = defaults ? [DefaultRules.builtIn] : DefaultRules.resolve(given)
            try finish(RulesRun().show(paths))
        }
    }

    struct Delete: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "delete",
            abstract: "Remove from the kernel the rules the files name, or with --all-owned every rule nodeaudit loaded; other rules stay.",
            discussion: """
                --all-owned is the uninstall step: it removes the rules nodeaudit recorded as loaded by it \
                (`rules apply` and `run` keep that record in the state directory), puts back the audit \
                settings it changed as they were before, and removes the record.
                """)
        @OptionGroup var files: Files
        @Flag(help: "Remove every rule nodeaudit loaded on this node and restore the settings it changed; no rule files are read.")
        var allOwned = false
        @Flag(help: ArgumentHelp(
            "With --all-owned: change nothing, and exit 0 when nothing is left to remove, 3 when the record still names rules or settings.",
            discussion: "The uninstall DaemonSet's readiness probe: ready once the node is as nodeaudit found it."))
        var check = false
        @Flag(help: ArgumentHelp(
            "With --all-owned: once done, keep running until SIGTERM or SIGINT.",
            discussion: "The uninstall DaemonSet's pod: a DaemonSet restarts a pod that exits, so it does the work once and waits."))
        var wait = false
        @OptionGroup var state: State
        func validate() throws {
            if allOwned, !files.given.isEmpty { throw ValidationError("--all-owned reads no rule files; give either files or --all-owned") }
            if (check || wait) && !allOwned { throw ValidationError("--check and --wait go with --all-owned") }
            if check && wait { throw ValidationError("--check changes nothing and ends; give --check or --wait") }
        }
        func run() throws {
            let rules = RulesRun(stateDirectory: try state.path(), hostRoot: try files.root())
            if check { return try finish(rules.ownedLeft()) }
            let outcome = allOwned ? rules.deleteOwned() : rules.delete(files.paths)
            if wait, outcome == .success {
                TerminationSignal.wait()
            }
            try finish(outcome)
        }
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
