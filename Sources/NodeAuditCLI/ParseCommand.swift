import OfflineParse
import ArgumentParser
import Configuration
import Pipeline
import KubernetesAudit

struct ParseCommand: ParsableCommand, BootstrapsLogging {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Correlate and interpret audit logs offline; print one JSON event per line.",
        discussion: """
            Reads auditd log files in RAW or ENRICHED format (or stdin when no file is given, \
            or for '-'), groups the records of each kernel event, and writes the events to \
            stdout as JSON lines (schema: docs/events.md). Files are read in the order given, \
            as one stream: give rotated logs oldest first.

            Lines that are not audit records are reported on stderr with file:line and \
            counted; a summary of what was read goes to stderr at the end.

            With --k8s-audit, the Kubernetes API server's audit log is read too (audit.k8s.io \
            Event lines, EventLists, AKS and GKE exports): its events are written first, as \
            k8s_api events, and every exec session in the node logs that follow gets the user \
            whose API request started it (k8s.exec, docs/kubernetes-audit.md). Without node \
            log files, only the API events are read.

            Exit status: 0 on success (even with malformed lines), 1 when an input cannot \
            be read or the output cannot be written.
            """
    )

    @Argument(help: "Audit log files; '-' or none reads stdin.")
    var files: [String] = []

    @Option(name: .customLong("k8s-audit"), parsing: .singleValue, help: ArgumentHelp(
        "A Kubernetes API server audit log (JSON lines, plain or gzip); repeatable, read in the order given.",
        valueName: "file"))
    var k8sAudit: [String] = []

    @OptionGroup var events: EventArguments

    @Flag(help: ArgumentHelp(
        "The logs were written on this host: attribute processes to containers and pods from /proc and the kubelet's log directories.",
        discussion: "Only processes still running, or whose parents are, can be attributed; a process that started after an event is never taken for it."))
    var containers = false

    @Flag(name: .shortAndLong, help: "Print no summary on stderr.")
    var quiet = false

    @Option(help: ArgumentHelp(
        "2: encode and write events on a second thread while the first reads and correlates (both interpret). Default: 2 when two or more CPUs are online, else 1.",
        discussion: "2 finishes large logs sooner, at more CPU time in all; 1 spends the least CPU (Scripts/bench-parse times both).",
        valueName: "1|2"))
    var threads: Int?

    func validate() throws {
        if let threads, !(1...2).contains(threads) { throw ValidationError("--threads must be 1 or 2") }
    }

    @OptionGroup var log: LogArguments

    func run() throws {
        try log.bootstrap()
        var configuration = Configuration()
        do {
            try configuration.apply(texts: events.given)
        } catch {
            throw ValidationError(error.description)
        }
        if let problem = configuration.problems().first { throw ValidationError(problem.description) }
        let options = EventOptions(configuration: configuration, onThisHost: containers, attribute: containers, nodeName: nil)
        var run = ParseOptions(files: files, events: options, quiet: quiet, threads: threads ?? ParseOptions.defaultThreads)
        if !k8sAudit.isEmpty {
            // The configuration's check has refused any other value.
            let stages = StageSelection(setting: configuration.text(.k8sAuditStages)) ?? StageSelection(mode: .completing)
            run.kubernetes = KubernetesAuditOptions(files: k8sAudit, stages: stages,
                                                    joinWindowMilliseconds: Int64(configuration.number(.k8sJoinWindow) * 1000))
        }
        guard ParseRun.execute(run) else {
            throw ExitCode.failure
        }
    }
}

/// How events are built and written; shared by `parse` and `run`. Each option left out
/// keeps its default (or, for `run`, the configuration file's value).
struct EventArguments: ParsableArguments {
    @Flag(help: "Include every original record (type and text) in each event.")
    var records = false

    @Option(help: .setting(.format))
    var format: String?

    @Option(help: .setting(.ecsDataset))
    var ecsDataset: String?

    @Option(help: .setting(.profile))
    var profile: String?

    @Option(help: .setting(.ancestryDepth))
    var ancestryDepth: String?

    @Option(help: .setting(.maxArgvBytes))
    var maxArgvBytes: String?

    @Flag(inversion: .prefixedNo, help: """
        Name user and group ids from this host's /etc/passwd and /etc/group, or not (names in ENRICHED logs are kept either way). \
        By default `run` names them, and `parse` names those of events whose node= is this host's name (or all, with --containers): \
        a log from another machine has other users behind the same ids.
        """)
    var hostUsers: Bool?

    @Option(help: .setting(.eventTimeout))
    var eventTimeout: String?

    @Option(help: .setting(.podLogs))
    var podLogs: String?

    @Option(help: .setting(.clusterName))
    var clusterName: String?

    @Option(name: .customLong("field"), parsing: .singleValue, help: .setting(.staticFields, discussion: "Repeatable: --field env=prod --field team=platform."))
    var fields: [String] = []

    @Option(name: .customLong("filter"), parsing: .singleValue, help: .setting(.filters, discussion: """
        Repeatable, tried in order: --filter 'keep exe=/usr/bin/sudo' --filter 'drop uid=0'. \
        Fields: key, technique, label, exe, comm, argv (any one argument of an exec), uid, auid, syscall, category, container, namespace, pod, \
        detection (a Sigma rule's id or title), level (level=high, level>=high); \
        a value ending in * matches by prefix. Given here, they replace the configuration file's.
        """))
    var filters: [String] = []

    @Option(name: .customLong("sigma"), parsing: .singleValue, help: .setting(.sigma, discussion: """
        Repeatable: --sigma /etc/nodeaudit/sigma --sigma extra.yml. A filter can then keep only matches: \
        --filter 'keep detection=*' --filter 'drop all', or --filter 'keep level>=high'.
        """))
    var sigma: [String] = []

    @Option(name: .customLong("label"), parsing: .singleValue, help: .setting(.labels, discussion: """
        Repeatable: --label 'remote exe=/usr/sbin/sshd'. Conditions as for --filter; a filter can then name label=NAME.
        """))
    var labels: [String] = []

    @Option(name: .customLong("omit"), parsing: .singleValue, help: .setting(.stdoutOmit, discussion: """
        Repeatable: --omit records --omit process.euid. For stdout; the other outputs have output.file_omit, \
        output.syslog_omit and output.http_omit in the configuration file.
        """))
    var omit: [String] = []

    @Flag(help: .setting(.sessionLabels, discussion: "Filters then select them: --filter 'keep label=exec:*' --filter 'drop all'."))
    var sessionLabels = false

    @Option(help: .setting(.containerLogs))
    var containerLogs: String?

    @Option(name: .customLong("k8s-stages"), help: .setting(.k8sAuditStages))
    var k8sStages: String?

    @Option(name: .customLong("k8s-join-window"), help: .setting(.k8sJoinWindow))
    var k8sJoinWindow: String?

    /// The options given, as configuration values.
    var given: [(setting: Setting, text: String, origin: String)] {
        var given: [(setting: Setting, text: String, origin: String)] = []
        if records { given.append((.includeRecords, "true", "--records")) }
        if let format { given.append((.format, format, "--format")) }
        if let ecsDataset { given.append((.ecsDataset, ecsDataset, "--ecs-dataset")) }
        if let profile { given.append((.profile, profile, "--profile")) }
        if let ancestryDepth { given.append((.ancestryDepth, ancestryDepth, "--ancestry-depth")) }
        if let maxArgvBytes { given.append((.maxArgvBytes, maxArgvBytes, "--max-argv-bytes")) }
        if let hostUsers { given.append((.hostUsers, String(hostUsers), hostUsers ? "--host-users" : "--no-host-users")) }
        if let eventTimeout { given.append((.eventTimeout, eventTimeout, "--event-timeout")) }
        if let podLogs { given.append((.podLogs, podLogs, "--pod-logs")) }
        if let clusterName { given.append((.clusterName, clusterName, "--cluster-name")) }
        if !fields.isEmpty { given.append((.staticFields, fields.joined(separator: "\n"), "--field")) }
        if !filters.isEmpty { given.append((.filters, filters.joined(separator: "\n"), "--filter")) }
        if !labels.isEmpty { given.append((.labels, labels.joined(separator: "\n"), "--label")) }
        if !sigma.isEmpty { given.append((.sigma, sigma.joined(separator: "\n"), "--sigma")) }
        if !omit.isEmpty { given.append((.stdoutOmit, omit.joined(separator: "\n"), "--omit")) }
        if sessionLabels { given.append((.sessionLabels, "true", "--session-labels")) }
        if let containerLogs { given.append((.containerLogs, containerLogs, "--container-logs")) }
        if let k8sStages { given.append((.k8sAuditStages, k8sStages, "--k8s-stages")) }
        if let k8sJoinWindow { given.append((.k8sJoinWindow, k8sJoinWindow, "--k8s-join-window")) }
        return given
    }
}
