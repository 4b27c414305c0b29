import Collector
import ArgumentParser
import Configuration
import HostIO
import Pipeline

struct RunCommand: ParsableCommand, BootstrapsLogging {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Load the audit rules and stream the kernel's audit events as JSON lines to stdout.",
        discussion: """
            By default nodeaudit registers as the kernel's audit daemon (one process may; \
            needs root), loads the rules of /etc/nodeaudit/rules.d, or when that does not exist the \
            Rules/ shipped with nodeaudit (auditctl syntax, see `nodeaudit rules`), \
            and writes one JSON event per line (docs/events.md) within about 100 ms of the event being \
            complete. Its own messages and statistics go to stderr.

            Every event is attributed to its container (id, runtime, name) and Kubernetes pod \
            (uid, name, namespace) from the process's cgroup and the kubelet's log \
            directories, or marked as a host process; processes that already exited are \
            attributed from what was seen of them or of their parent.

            Beside auditd or journald, use --multicast: nodeaudit then reads a read-only copy \
            of the stream and the other daemon keeps its role.

            SIGINT or SIGTERM: events in flight are written, the audit pid is given back, and \
            with --cleanup the kernel's rules and settings are put back as they were at start. \
            Counters (records, events, kernel lost, missing serials, buffer overflows, \
            malformed records) are printed every --stats-interval seconds and on exit.
            """
    )

    @Option(help: ArgumentHelp(
        "YAML configuration file (docs/configuration.md; default: $NODEAUDIT_CONFIG, else none).",
        discussion: "Layers, later wins: defaults, this file, NODEAUDIT_* environment variables, these flags. `nodeaudit config show` prints the result."))
    var config: String?

    @Option(name: .customLong("rules"), parsing: .singleValue,
            help: .setting(.ruleFiles, discussion: "Repeatable."))
    var rules: [String] = []

    @Flag(help: "Do not load rules; read with whatever rules the kernel has.")
    var noRules = false

    @Flag(help: "Read the audit multicast group (beside auditd) instead of registering as the audit daemon.")
    var multicast = false

    @Flag(help: "When another process (auditd) is the audit daemon, stop it (SIGTERM) and take its place; the kernel allows no replacement of a live one.")
    var takeOver = false

    @Flag(help: "On exit, leave the kernel's audit rules and settings exactly as they were at start (a trial run).")
    var cleanup = false

    @Option(help: .setting(.driftCheck))
    var driftInterval: String?

    @Option(help: .setting(.statsInterval))
    var statsInterval: String?

    @Option(help: .setting(.receiveBuffer))
    var receiveBuffer: String?

    @Option(help: .setting(.outputQueue, discussion: "The reader never waits for the output, so the kernel never loses records because of it; what is dropped here is counted as output_dropped."))
    var outputQueueMb: String?

    @Flag(help: "Do not write events to stdout (with --file or --syslog).")
    var noStdout = false

    @Option(help: .setting(.outputFile))
    var file: String?

    @Option(help: .setting(.syslog))
    var syslog: String?

    @Option(help: .setting(.syslogCA))
    var syslogCa: String?

    @Option(help: .setting(.syslogCertificate))
    var syslogCert: String?

    @Option(help: .setting(.syslogKey))
    var syslogKey: String?

    @Option(help: .setting(.http))
    var http: String?

    @Option(help: .setting(.httpFormat))
    var httpFormat: String?

    @Option(help: .setting(.spoolDirectory))
    var spoolDirectory: String?

    @Option(help: .setting(.stateDirectory))
    var stateDirectory: String?

    @Option(help: .setting(.healthListen))
    var listen: String?

    @Option(name: .customLong("k8s-audit-file"), help: .setting(.k8sAuditFile))
    var k8sAuditFile: String?

    @Option(name: .customLong("k8s-webhook-listen"), help: .setting(.k8sWebhookListen))
    var k8sWebhookListen: String?

    @Option(name: .customLong("k8s-webhook-cert"), help: .setting(.k8sWebhookCertificate))
    var k8sWebhookCertificate: String?

    @Option(name: .customLong("k8s-webhook-key"), help: .setting(.k8sWebhookKey))
    var k8sWebhookKey: String?

    @Option(name: .customLong("k8s-webhook-client-ca"), help: .setting(.k8sWebhookClientCA))
    var k8sWebhookClientCA: String?

    @Option(help: .setting(.healthSocket))
    var healthSocket: String?

    @Flag(help: "Do not attribute events to containers, pods and the host.")
    var noContainers = false

    @Option(help: .setting(.nodeName))
    var nodeName: String?

    @OptionGroup var events: EventArguments

    @OptionGroup var log: LogArguments

    /// The flags given, as configuration values.
    var given: [(setting: Setting, text: String, origin: String)] {
        var given: [(setting: Setting, text: String, origin: String)] = events.given + log.given
        if !rules.isEmpty { given.append((.ruleFiles, rules.joined(separator: ","), "--rules")) }
        if noRules { given.append((.applyRules, "false", "--no-rules")) }
        if multicast { given.append((.mode, "multicast", "--multicast")) }
        if takeOver { given.append((.takeOver, "true", "--take-over")) }
        if cleanup { given.append((.cleanup, "true", "--cleanup")) }
        if noContainers { given.append((.attribution, "false", "--no-containers")) }
        if noStdout { given.append((.stdout, "false", "--no-stdout")) }
        let options: [(Setting, String?, String)] = [
            (.driftCheck, driftInterval, "--drift-interval"), (.statsInterval, statsInterval, "--stats-interval"),
            (.receiveBuffer, receiveBuffer, "--receive-buffer"), (.outputQueue, outputQueueMb, "--output-queue-mb"),
            (.healthListen, listen, "--listen"), (.healthSocket, healthSocket, "--health-socket"), (.nodeName, nodeName, "--node-name"), (.outputFile, file, "--file"),
            (.syslog, syslog, "--syslog"), (.syslogCA, syslogCa, "--syslog-ca"),
            (.syslogCertificate, syslogCert, "--syslog-cert"), (.syslogKey, syslogKey, "--syslog-key"),
            (.http, http, "--http"), (.httpFormat, httpFormat, "--http-format"), (.spoolDirectory, spoolDirectory, "--spool-directory"),
            (.stateDirectory, stateDirectory, "--state-directory"),
            (.k8sAuditFile, k8sAuditFile, "--k8s-audit-file"), (.k8sWebhookListen, k8sWebhookListen, "--k8s-webhook-listen"),
            (.k8sWebhookCertificate, k8sWebhookCertificate, "--k8s-webhook-cert"), (.k8sWebhookKey, k8sWebhookKey, "--k8s-webhook-key"),
            (.k8sWebhookClientCA, k8sWebhookClientCA, "--k8s-webhook-client-ca"),
        ]
        for case let (setting, text?, flag) in options { given.append((setting, text, flag)) }
        return given
    }

    func run() throws {
        let configuration = try ConfigurationLayers.load(file: config, flags: given)
        LogArguments.bootstrap(configuration)
        let collector: LiveCollector
        let file = config
        let flags = given
        do {
            collector = try LiveCollector(configuration: configuration) {
                try ConfigurationLayers.layered(file: file, flags: flags)
            }
        } catch {
            ProcessEnvironment.writeToStandardError("nodeaudit: \(error)\n")
            throw ExitCode(ExitStatus.failure.rawValue)
        }
        switch collector.run() {
        case .stopped: break
        case .failed: throw ExitCode(ExitStatus.failure.rawValue)
        case .badInput: throw ExitCode(ExitStatus.usage.rawValue)
        }
    }
}
