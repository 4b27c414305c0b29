import ArgumentParser
import Configuration
import NodeAudit

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Load the audit rules and stream the kernel's audit events as JSON lines to stdout.",
        discussion: """
            By default nodeaudit registers as the kernel's audit daemon (one process may; \
            needs root), loads the rules of /etc/nodeaudit/rules.d, or when that does not exist the \
            Rules/ shipped with nodeaudit (auditctl syntax, see `nodeaudit rules`), \
            and writes one JSON event per line (docs/events.md) within 50 ms of the event being \
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
            help: "Rule files or directories to load (repeatable; default: /etc/nodeaudit/rules.d, else the Rules/ shipped with nodeaudit).")
    var rules: [String] = []

    @Flag(help: "Do not load rules; read with whatever rules the kernel has.")
    var noRules = false

    @Flag(help: "Read the audit multicast group (beside auditd) instead of registering as the audit daemon.")
    var multicast = false

    @Flag(help: "When another process (auditd) is the audit daemon, stop it (SIGTERM) and take its place; the kernel allows no replacement of a live one.")
    var takeOver = false

    @Flag(help: "On exit, leave the kernel's audit rules and settings exactly as they were at start (a trial run).")
    var cleanup = false

    @Option(help: "Seconds between checks that the kernel still has the rules and settings; drift is repaired and reported as an event (0: never; default: 30).")
    var driftInterval: String?

    @Option(help: "Seconds between statistics lines on stderr (0: only on exit; default: 60).")
    var statsInterval: String?

    @Option(help: "Receive buffer for the audit socket, in bytes (default: 16 MiB).")
    var receiveBuffer: String?

    @Option(help: ArgumentHelp(
        "MiB of events that may wait for a slow output (stdout) before new events are dropped (default: 64).",
        discussion: "The reader never waits for the output, so the kernel never loses records because of it; what is dropped here is counted as output_dropped."))
    var outputQueueMb: String?

    @Flag(help: "Do not write events to stdout (with --file or --syslog).")
    var noStdout = false

    @Option(help: "Also write events to this file, rotated by size (output.file_max_mb, output.file_generations).")
    var file: String?

    @Option(help: "Also send events to a syslog collector: tcp://, tls:// or udp://HOST:PORT, through a spool on disk (spool.directory).")
    var syslog: String?

    @Option(help: "tls://: the CAs (PEM) that sign the collector's certificate (default: the system's).")
    var syslogCa: String?

    @Option(help: "tls://: a client certificate (PEM) for collectors that ask for one, with --syslog-key.")
    var syslogCert: String?

    @Option(help: "tls://: the client certificate's key (PEM).")
    var syslogKey: String?

    @Option(help: "Also POST events in batches to this http(s):// URL (Elasticsearch/OpenSearch _bulk by default, see --http-format).")
    var http: String?

    @Option(help: "elasticsearch (_bulk, idempotent by event id) or ndjson (the JSON lines as the body).")
    var httpFormat: String?

    @Option(help: "Directory of the spools that keep events for collectors until delivered (default: /var/lib/nodeaudit/spool).")
    var spoolDirectory: String?

    @Option(help: "Directory of the state kept for the next run (the last serial written, the kernel's lost counter).")
    var stateDirectory: String?

    @Option(help: "ADDRESS:PORT to serve /healthz and /metrics on over HTTP (default: none).")
    var listen: String?

    @Flag(help: "Do not attribute events to containers, pods and the host.")
    var noContainers = false

    @Option(help: "The node name put on every event (default: $NODE_NAME, else the host name).")
    var nodeName: String?

    @OptionGroup var events: EventArguments

    /// The flags given, as configuration values.
    var given: [(setting: Setting, text: String, origin: String)] {
        var given: [(setting: Setting, text: String, origin: String)] = events.given
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
            (.healthListen, listen, "--listen"), (.nodeName, nodeName, "--node-name"), (.outputFile, file, "--file"),
            (.syslog, syslog, "--syslog"), (.syslogCA, syslogCa, "--syslog-ca"),
            (.syslogCertificate, syslogCert, "--syslog-cert"), (.syslogKey, syslogKey, "--syslog-key"),
            (.http, http, "--http"), (.httpFormat, httpFormat, "--http-format"), (.spoolDirectory, spoolDirectory, "--spool-directory"),
            (.stateDirectory, stateDirectory, "--state-directory"),
        ]
        for case let (setting, text?, flag) in options { given.append((setting, text, flag)) }
        return given
    }

    func run() throws {
        let configuration = try ConfigurationLayers.load(file: config, flags: given)
        let collector: LiveCollector
        let file = config
        let flags = given
        do {
            collector = try LiveCollector(configuration: configuration) {
                try ConfigurationLayers.layered(file: file, flags: flags)
            }
        } catch {
            throw ValidationError("\(error)")
        }
        let status = collector.run()
        if status != 0 { throw ExitCode(status) }
    }
}
