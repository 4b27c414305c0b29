import ArgumentParser
import NodeAudit

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Load the audit rules and stream the kernel's audit events as JSON lines to stdout.",
        discussion: """
            By default nodeaudit registers as the kernel's audit daemon (one process may; \
            needs root), loads the rules in Rules/ (auditctl syntax, see `nodeaudit rules`), \
            and writes one JSON event per line (docs/events.md) the moment the event is \
            complete. Its own messages and statistics go to stderr.

            Every event is attributed to its container (id, runtime, name) and Kubernetes pod \
            (uid, name, namespace) from the process's cgroup and the kubelet's log \
            directories, or marked as a host process; processes that already exited are \
            attributed from what was seen of them or of their parent.

            Beside auditd or journald, use --multicast: nodeaudit then reads a read-only copy \
            of the stream and the other daemon keeps its role.

            SIGINT or SIGTERM: events in flight are written, the audit pid is given back, and \
            with --cleanup the rules and settings nodeaudit loaded are removed again. \
            Counters (records, events, kernel lost, missing serials, buffer overflows, \
            malformed records) are printed every --stats-interval seconds and on exit.
            """
    )

    @Option(name: .customLong("rules"), parsing: .singleValue,
            help: "Rule files or directories to load (repeatable; default: Rules).")
    var rules: [String] = []

    @Flag(help: "Do not load rules; read with whatever rules the kernel has.")
    var noRules = false

    @Flag(help: "Read the audit multicast group (beside auditd) instead of registering as the audit daemon.")
    var multicast = false

    @Flag(help: "When another process (auditd) is the audit daemon, stop it (SIGTERM) and take its place; the kernel allows no replacement of a live one.")
    var takeOver = false

    @Flag(help: "On exit, remove the rules nodeaudit loaded and restore the settings it changed.")
    var cleanup = false

    @Option(help: "Seconds between statistics lines on stderr (0: only on exit).")
    var statsInterval: Double = 60

    @Option(help: "Receive buffer for the audit socket, in bytes.")
    var receiveBuffer: Int32 = 16 << 20

    @Option(help: ArgumentHelp(
        "MiB of events that may wait for a slow output (stdout) before new events are dropped.",
        discussion: "The reader never waits for the output, so the kernel never loses records because of it; what is dropped here is counted as output_dropped."))
    var outputQueueMb: Int = 64

    @Flag(help: "Do not attribute events to containers, pods and the host.")
    var noContainers = false

    @Option(help: "The node name put on every event (default: $NODE_NAME, else the host name).")
    var nodeName: String?

    @OptionGroup var events: EventArguments

    func validate() throws {
        guard statsInterval >= 0 else { throw ValidationError("--stats-interval cannot be negative") }
        guard !(takeOver && multicast) else { throw ValidationError("--take-over and --multicast exclude each other") }
        guard receiveBuffer >= 65536 else { throw ValidationError("--receive-buffer must be at least 65536 bytes") }
        guard (1...16384).contains(outputQueueMb) else { throw ValidationError("--output-queue-mb must be between 1 and 16384") }
    }

    func run() throws {
        let options = LiveOptions(
            ruleFiles: rules.isEmpty ? ["Rules"] : rules, applyRules: !noRules,
            mode: multicast ? .multicast : .unicast, takeOver: takeOver, cleanup: cleanup, statsIntervalSeconds: statsInterval,
            receiveBufferBytes: receiveBuffer, outputQueueBytes: outputQueueMb << 20,
            events: events.options(attribute: !noContainers, nodeName: nodeName ?? EventOptions.localNodeName()))
        let collector: LiveCollector
        do {
            collector = try LiveCollector(options: options)
        } catch {
            throw ValidationError("\(error)")
        }
        let status = collector.run()
        if status != 0 { throw ExitCode(status) }
    }
}
