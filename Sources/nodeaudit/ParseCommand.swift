import ArgumentParser
import NodeAudit

struct ParseCommand: ParsableCommand {
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

            Exit status: 0 on success (even with malformed lines), 1 when an input cannot \
            be read or the output cannot be written.
            """
    )

    @Argument(help: "Audit log files; '-' or none reads stdin.")
    var files: [String] = []

    @OptionGroup var events: EventArguments

    @Flag(help: ArgumentHelp(
        "The logs were written on this host: attribute processes to containers and pods from /proc and the kubelet's log directories.",
        discussion: "Only processes still running, or whose parents are, can be attributed; a process that started after an event is never taken for it."))
    var containers = false

    @Flag(name: .shortAndLong, help: "Print no summary on stderr.")
    var quiet = false

    func run() throws {
        let options = events.options(attribute: containers, nodeName: nil)
        guard ParseRun.execute(ParseOptions(files: files, events: options, quiet: quiet)) else {
            throw ExitCode.failure
        }
    }
}

/// How events are built and written; shared by `parse` and `run`.
struct EventArguments: ParsableArguments {
    @Flag(help: "Include every original record (type and text) in each event.")
    var records = false

    @Option(help: "Never emit more than this many bytes of argv per event; the rest is counted in argv_truncated.")
    var maxArgvBytes: Int = 64 * 1024

    @Flag(help: "Do not name user and group ids from this host's /etc/passwd and /etc/group (names in ENRICHED logs are kept).")
    var noHostUsers = false

    @Option(help: "Seconds after which an event whose last record never came is closed and emitted.")
    var eventTimeout: Double = 2

    @Option(help: "The kubelet's pod log directory (<namespace>_<pod>_<uid>/<container>/), for pod and container names.")
    var podLogs = "/var/log/pods"

    @Option(help: "The kubelet's container log links (<pod>_<namespace>_<container>-<id>.log), for container names.")
    var containerLogs = "/var/log/containers"

    func validate() throws {
        guard maxArgvBytes > 0 else { throw ValidationError("--max-argv-bytes must be positive") }
        guard eventTimeout > 0, eventTimeout <= 3600 else { throw ValidationError("--event-timeout must be in (0, 3600] seconds") }
    }

    func options(attribute: Bool, nodeName: String?) -> EventOptions {
        EventOptions(includeRecords: records, maxArgvBytes: maxArgvBytes, useHostUsers: !noHostUsers,
                     eventTimeoutMilliseconds: UInt64(eventTimeout * 1000),
                     attribution: attribute ? AttributionOptions(podLogRoot: podLogs, containerLogRoot: containerLogs) : nil,
                     nodeName: nodeName)
    }
}
