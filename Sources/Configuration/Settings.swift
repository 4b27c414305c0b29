/// Every setting of `nodeaudit run`, in one table: its key in the YAML file, its
/// environment variable, its default and what it means. The file, the environment, the
/// documentation (`nodeaudit config defaults`) and the command's flags all go by it.
package struct Setting: Sendable, Hashable {
    package enum Kind: Sendable, Hashable {
        case bool
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case text
        case texts
        case choice([String])
        /// `SCHEME://HOST:PORT` with one of the schemes, or empty for none.
        case address(schemes: [String])
        /// `SCHEME://HOST[:PORT][/PATH]` with one of the schemes, or empty for none.
        case url(schemes: [String])
    }

    /// `section.name`, as in the file.
    package let key: String
    package let kind: Kind
    package let defaultValue: Value
    package let help: String
    /// A value that grants access (credentials in headers): masked by `config show`.
    package var isSecret = false

    /// `NODEAUDIT_SECTION_NAME`.
    package var environmentName: String {
        "NODEAUDIT_" + key.uppercased().map { $0 == "." ? "_" : $0 }.map(String.init).joined()
    }

    package var section: String { String(key.prefix { $0 != "." }) }
    package var name: String { String(key.drop { $0 != "." }.dropFirst()) }
}

/// A setting's value.
package enum Value: Sendable, Hashable, CustomStringConvertible {
    /// The integer of an `.integer` value (0 for others): for library defaults read from the table.
    package var integerValue: Int { if case .integer(let value) = self { value } else { 0 } }
    /// The number of a `.number` value (0 for others).
    package var numberValue: Double { if case .number(let value) = self { value } else { 0 } }

    case bool(Bool)
    case integer(Int)
    case number(Double)
    case text(String)
    case texts([String])

    package var description: String {
        switch self {
        case .bool(let value): return String(value)
        case .integer(let value): return String(value)
        case .number(let value): return value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
        case .text(let value): return Self.quoted(value)
        case .texts(let values): return "[" + values.map(Self.quoted).joined(separator: ", ") + "]"
        }
    }

    /// YAML text for a string: quoted, so that `""`, `yes` or `1` stay strings.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"") + "\""
    }
}

extension Setting {
    package static let ruleFiles = Setting(key: "rules.files", kind: .texts, defaultValue: .texts(["/etc/nodeaudit/rules.d"]),
        help: "Rule files or directories (auditctl syntax) loaded at start and kept in the kernel; when the default directory does not exist, the rules built into nodeaudit (`nodeaudit rules show --defaults`).")
    package static let hostRoot = Setting(key: "rules.host_root", kind: .text, defaultValue: .text("/"),
        help: "The node's root directory as nodeaudit sees it: / on the node; in a pod, where the host's / is mounted. The kernel resolves a watch's path where it is added, so watches are added from there to watch the node's files (needs CAP_SYS_CHROOT when not /).")
    package static let applyRules = Setting(key: "rules.apply", kind: .bool, defaultValue: .bool(true),
        help: "Load the rules; false reads with whatever rules the kernel has (and repairs nothing).")
    package static let cleanup = Setting(key: "rules.cleanup_on_exit", kind: .bool, defaultValue: .bool(false),
        help: "On exit, leave the kernel's audit rules and settings exactly as they were at start (a trial run).")
    package static let driftCheck = Setting(key: "rules.drift_check_seconds", kind: .number(0...86400), defaultValue: .number(30),
        help: "Every this many seconds, compare the kernel's rules and audit settings with the rule files and restore them (0: never).")
    package static let mode = Setting(key: "audit.mode", kind: .choice(["unicast", "multicast"]), defaultValue: .text("unicast"),
        help: "unicast: be the kernel's audit daemon; multicast: read a copy of the stream beside auditd or journald.")
    package static let takeOver = Setting(key: "audit.take_over", kind: .bool, defaultValue: .bool(false),
        help: "When another process is the audit daemon, stop it (SIGTERM) and take its place.")
    package static let receiveBuffer = Setting(key: "audit.receive_buffer_bytes", kind: .integer(65536...(1 << 30)), defaultValue: .integer(16 << 20),
        help: "Receive buffer of the audit socket.")
    package static let includeRecords = Setting(key: "events.include_records", kind: .bool, defaultValue: .bool(false),
        help: "Add every original record to its event.")
    package static let maxArgvBytes = Setting(key: "events.max_argv_bytes", kind: .integer(1...(16 << 20)), defaultValue: .integer(65536),
        help: "Bound on the argv bytes of one event; the cut is marked.")
    package static let maxEventBytes = Setting(key: "events.max_event_bytes", kind: .integer(4096...(64 << 20)), defaultValue: .integer(1 << 20),
        help: "Bound on one event's line; a longer event is written without its records, or as its summary, marked truncated.")
    package static let eventTimeout = Setting(key: "events.event_timeout_seconds", kind: .number(0.001...3600), defaultValue: .number(2),
        help: "An event whose last record never came is closed and emitted once this long passed without another of its records (live: counted once nodeaudit has read all that waits, so an event read late is not split).")
    package static let profile = Setting(key: "events.profile", kind: .choice(["full", "compact"]), defaultValue: .text("full"),
        help: "compact leaves out of native events what repeats another field or says nothing (docs/events.md, Compact events): about half the bytes.")
    package static let clusterName = Setting(key: "events.cluster_name", kind: .text, defaultValue: .text(""),
        help: "The cluster's name, in every event (native cluster, ECS orchestrator.cluster.name); empty: none.")
    package static let staticFields = Setting(key: "events.fields", kind: .texts, defaultValue: .texts([]),
        help: "name=value pairs added to every event (native fields, ECS labels): environment, region, team. Names are flat (letters, digits, _ and -): ECS labels are one level.")
    package static let filters = Setting(key: "events.filters", kind: .texts, defaultValue: .texts([]),
        help: "Filters in order, `drop|keep FIELD=VALUE…` or `drop|keep all`: the first an event matches decides, an event none matches is kept (docs/configuration.md, Filters).")
    package static let ancestryDepth = Setting(key: "events.ancestry_depth", kind: .integer(0...64), defaultValue: .integer(0),
        help: "Give each process event its parent (exe, name, arguments, exec event) and this many ancestors above it, from what the stream showed (0: none).")
    package static let ancestryProcesses = Setting(key: "events.ancestry_processes", kind: .integer(2...10_000_000), defaultValue: .integer(50_000),
        help: "The most processes remembered for ancestry; past it the least recently seen of those without remembered children are forgotten first, and counted.")
    package static let labels = Setting(key: "events.labels", kind: .texts, defaultValue: .texts([]),
        help: "Labels, `NAME FIELD=VALUE…`: a process whose event matches gets NAME, and so do all its descendants (docs/configuration.md, Labels).")
    package static let sessionLabels = Setting(key: "events.session_labels", kind: .bool, defaultValue: .bool(false),
        help: "Label sessions as processes: login:SES for a login session, exec:ID for an exec session into a container, inherited by every descendant.")
    package static let labelProcesses = Setting(key: "events.label_processes", kind: .integer(1...10_000_000), defaultValue: .integer(50_000),
        help: "The most labelled processes remembered for their descendants; past it the longest-known are forgotten and counted.")
    package static let sigma = Setting(key: "detection.sigma", kind: .texts, defaultValue: .texts([]),
        help: "Sigma rule files or directories (.yml, .yaml) evaluated on every event: a match adds `detections` (docs/sigma.md). Refused rules are reported and left out.")
    package static let k8sAuditFile = Setting(key: "k8s_audit.file", kind: .text, defaultValue: .text(""),
        help: "The API server's audit log (--audit-log-path) to follow, on control-plane nodes: its events become k8s_api events, and exec requests name the user of exec sessions. Followed through the API server's rotation and copy-truncate; the position is kept in state.directory. Empty: none.")
    package static let k8sWebhookListen = Setting(key: "k8s_audit.webhook_listen", kind: .text, defaultValue: .text(""),
        help: "ADDRESS:PORT for the API server's webhook audit backend (HTTPS, EventList batches; a batch is answered 200 once every output settled it). Needs webhook_certificate, webhook_key and webhook_client_ca. Empty: none.")
    package static let k8sWebhookCertificate = Setting(key: "k8s_audit.webhook_certificate", kind: .text, defaultValue: .text(""),
        help: "The webhook's server certificate (PEM, with its chain), as the API server's kubeconfig names the server.")
    package static let k8sWebhookKey = Setting(key: "k8s_audit.webhook_key", kind: .text, defaultValue: .text(""),
        help: "The server certificate's private key (PEM).")
    package static let k8sWebhookClientCA = Setting(key: "k8s_audit.webhook_client_ca", kind: .text, defaultValue: .text(""),
        help: "The CA whose signature a client certificate must carry: only the API server holds one. Clients without are refused in the handshake.")
    package static let k8sWebhookMaxBodyMB = Setting(key: "k8s_audit.webhook_max_body_mb", kind: .integer(1...1024), defaultValue: .integer(32),
        help: "The largest batch taken, in MiB (the API server's --audit-webhook-batch-max-size events, each up to its request and response bodies); larger ones are answered 413.")
    package static let k8sAuditStages = Setting(key: "k8s_audit.stages", kind: .choice(["completing", "all", "RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"]),
        defaultValue: .text("completing"),
        help: "Which stages of an API request become k8s_api events: completing (one per auditID: ResponseComplete, or ResponseStarted for exec, attach, port forward and watch), all, or one stage.")
    package static let k8sJoinWindow = Setting(key: "k8s_audit.join_window_seconds", kind: .number(0.001...3600), defaultValue: .number(10),
        help: "An exec session is joined to an API exec request with its k8s.exec.key this far before or after the session's first event; two in the window are ambiguous, none is reported.")
    package static let hostUsers = Setting(key: "events.host_users", kind: .bool, defaultValue: .bool(true),
        help: "Name user and group ids from the passwd and group files below. Left unset, `parse` names them only for events whose node= is this host's name (or all, with --containers): another machine's ids are other users.")
    package static let passwdFile = Setting(key: "events.passwd_file", kind: .text, defaultValue: .text("/etc/passwd"),
        help: "The host's passwd file (in a container: the host's, mounted read-only).")
    package static let groupFile = Setting(key: "events.group_file", kind: .text, defaultValue: .text("/etc/group"),
        help: "The host's group file.")
    package static let attribution = Setting(key: "attribution.enabled", kind: .bool, defaultValue: .bool(true),
        help: "Attribute every event to its container and pod, or mark it as the host's.")
    package static let nodeName = Setting(key: "attribution.node_name", kind: .text, defaultValue: .text(""),
        help: "The node name on every event; empty: $NODE_NAME, else the host name.")
    package static let procRoot = Setting(key: "attribution.proc_root", kind: .text, defaultValue: .text("/proc"),
        help: "The host's /proc (with hostPID, the container's own /proc is the host's).")
    package static let podLogs = Setting(key: "attribution.pod_logs", kind: .text, defaultValue: .text("/var/log/pods"),
        help: "The kubelet's pod log directory, for pod, namespace and container names.")
    package static let containerLogs = Setting(key: "attribution.container_logs", kind: .text, defaultValue: .text("/var/log/containers"),
        help: "The kubelet's container log links, for container names.")
    package static let runtimes = Setting(key: "attribution.runtimes", kind: .texts, defaultValue: .texts([
            "/usr/bin/runc", "/usr/sbin/runc", "/usr/local/bin/runc", "/usr/local/sbin/runc", "/usr/bin/crun", "/usr/local/bin/crun",
            "/usr/bin/containerd-shim-runc-v2", "/usr/local/bin/containerd-shim-runc-v2", "/usr/bin/containerd-shim-runc-v1",
            "/usr/bin/containerd-shim", "/usr/bin/conmon", "/usr/libexec/podman/conmon", "/usr/local/bin/conmon",
            "/usr/local/libexec/podman/conmon",
        ]),
        help: "The container runtime programs (OCI runtimes named runc or crun, containerd shims, conmon) whose command lines attribute the processes they start, however briefly those live: paths as the kernel names the executable, owned by root and run as root. Their files (bundle, state, pid files) are read under rules.host_root.")
    package static let format = Setting(key: "output.format", kind: .choice(["native", "ecs"]), defaultValue: .text("native"),
        help: "native: nodeaudit's schema (docs/events.md); ecs: the Elastic Common Schema (docs/ecs.md). For every output.")
    package static let ecsDataset = Setting(key: "output.ecs_dataset", kind: .choice(["nodeaudit", "auditd"]), defaultValue: .text("nodeaudit"),
        help: "With output.format ecs: nodeaudit writes event.module nodeaudit, event.dataset nodeaudit.audit; auditd writes the values of Elastic's auditd integrations (auditd, auditd_manager.auditd) and `executed` as an exec's event.action, so that Elastic's prebuilt Linux rules read the events (docs/ecs.md).")
    package static let stdout = Setting(key: "output.stdout", kind: .bool, defaultValue: .bool(true),
        help: "Write events to stdout (in a pod: the container log, shipped by the cluster's log agent).")
    package static let outputFile = Setting(key: "output.file", kind: .text, defaultValue: .text(""),
        help: "Also write events to this file, rotated by size; empty: no file.")
    package static let fileMaxMB = Setting(key: "output.file_max_mb", kind: .integer(1...1_048_576), defaultValue: .integer(100),
        help: "MiB at which the file is rotated (FILE becomes FILE.1, FILE.1 becomes FILE.2, ...).")
    package static let fileGenerations = Setting(key: "output.file_generations", kind: .integer(0...1000), defaultValue: .integer(5),
        help: "Rotated files kept beside the current one.")
    package static let syslog = Setting(key: "output.syslog", kind: .address(schemes: ["tcp", "tls", "udp"]), defaultValue: .text(""),
        help: "Also send events to a syslog collector: tcp://, tls:// or udp://HOST:PORT (RFC 5424; TCP and TLS with octet counting); empty: none.")
    package static let syslogCA = Setting(key: "output.syslog_ca_file", kind: .text, defaultValue: .text(""),
        help: "tls://: PEM file of the CAs that sign the collector's certificate; empty: the system's CAs.")
    package static let syslogCertificate = Setting(key: "output.syslog_cert_file", kind: .text, defaultValue: .text(""),
        help: "tls://: client certificate (PEM) for collectors that ask for one; empty: none.")
    package static let syslogKey = Setting(key: "output.syslog_key_file", kind: .text, defaultValue: .text(""),
        help: "tls://: the client certificate's key (PEM).")
    package static let stateDirectory = Setting(key: "state.directory", kind: .text, defaultValue: .text("/var/lib/nodeaudit/state"),
        help: "Where nodeaudit keeps what the next run needs (the last serial written, the kernel's lost counter), so that a gap between runs is reported, and the record of the audit rules it loaded and the settings it found (owned-rules: what a reload may remove and `rules delete --all-owned` puts back).")
    package static let spoolDirectory = Setting(key: "spool.directory", kind: .text, defaultValue: .text("/var/lib/nodeaudit/spool"),
        help: "Where events for collectors wait on disk until delivered (one spool per collector output).")
    package static let spoolMB = Setting(key: "spool.max_mb", kind: .integer(1...1_048_576), defaultValue: .integer(1024),
        help: "MiB each spool may hold; beyond it new events are dropped and counted.")
    package static let http = Setting(key: "output.http", kind: .url(schemes: ["http", "https"]), defaultValue: .text(""),
        help: "Also POST events in batches to this http(s):// URL (for Elasticsearch/OpenSearch: the _bulk endpoint); empty: none.")
    package static let httpFormat = Setting(key: "output.http_format", kind: .choice(["elasticsearch", "ndjson"]), defaultValue: .text("elasticsearch"),
        help: "elasticsearch: _bulk requests, each event created with its id (no duplicates on resend); ndjson: the lines as the body.")
    package static let httpIndex = Setting(key: "output.http_index", kind: .text, defaultValue: .text("nodeaudit"),
        help: "The index (or data stream) events go to, for the elasticsearch format.")
    package static let httpHeaders = Setting(key: "output.http_headers", kind: .texts, defaultValue: .texts([]),
        help: "Extra request headers, `Name: value` (e.g. Authorization); `config show` masks their values.", isSecret: true)
    package static let httpCA = Setting(key: "output.http_ca_file", kind: .text, defaultValue: .text(""),
        help: "https://: PEM file of the CAs that sign the server's certificate; empty: the system's CAs.")
    package static let stdoutOmit = Setting(key: "output.stdout_omit", kind: .texts, defaultValue: .texts([]),
        help: "Fields stdout leaves out of each event: dotted paths of the output's schema (`records`, `process.euid`; `k8s` leaves out a whole group).")
    package static let fileOmit = Setting(key: "output.file_omit", kind: .texts, defaultValue: .texts([]),
        help: "Fields the file output leaves out of each event, as output.stdout_omit.")
    package static let syslogOmit = Setting(key: "output.syslog_omit", kind: .texts, defaultValue: .texts([]),
        help: "Fields the syslog output leaves out of each event, as output.stdout_omit.")
    package static let httpOmit = Setting(key: "output.http_omit", kind: .texts, defaultValue: .texts([]),
        help: "Fields the http output leaves out of each event, as output.stdout_omit.")
    /// Each output's field omission setting, by the output's name.
    package static let omissions: [(output: String, setting: Setting)] = [
        ("stdout", stdoutOmit), ("file", fileOmit), ("syslog", syslogOmit), ("http", httpOmit),
    ]
    package static let outputQueue = Setting(key: "output.queue_mb", kind: .integer(1...16384), defaultValue: .integer(64),
        help: "MiB of events that may wait for a slow output before new events are dropped (and counted).")
    package static let statsInterval = Setting(key: "stats.interval_seconds", kind: .number(0...86400), defaultValue: .number(60),
        help: "Seconds between statistics lines on stderr (0: only on exit).")
    package static let logLevel = Setting(key: "log.level", kind: .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]),
        defaultValue: .text("info"), help: "The least severe of nodeaudit's own messages (stderr) that are written.")
    package static let logFormat = Setting(key: "log.format", kind: .choice(["text", "json"]), defaultValue: .text("text"),
        help: "text: `TIME LEVEL nodeaudit: message` lines; json: one object per message, for log pipelines (in a pod, stderr shares the container log with the events).")
    package static let healthListen = Setting(key: "health.listen", kind: .text, defaultValue: .text(""),
        help: "ADDRESS:PORT for /healthz and /metrics over HTTP (e.g. [::]:9477, IPv6 and IPv4; 0.0.0.0:9477, IPv4 only); empty: none. A port another process holds (the previous nodeaudit in a hand-over) is taken when it is free.")
    package static let healthSocket = Setting(key: "health.socket", kind: .text, defaultValue: .text(""),
        help: "A unix socket serving the same, for `nodeaudit health` (a pod's exec probes): it reaches this process, whoever holds the TCP port; empty: none.")

    /// Every setting, in the order the defaults are documented.
    package static let all: [Setting] = [
        ruleFiles, hostRoot, applyRules, cleanup, driftCheck, mode, takeOver, receiveBuffer, includeRecords, maxArgvBytes, maxEventBytes,
        eventTimeout, profile, clusterName, staticFields, filters, labels, sessionLabels, labelProcesses, ancestryDepth, ancestryProcesses, hostUsers, passwdFile, groupFile, attribution, nodeName, procRoot, podLogs, containerLogs, runtimes, sigma, k8sAuditFile, k8sWebhookListen, k8sWebhookCertificate, k8sWebhookKey, k8sWebhookClientCA, k8sWebhookMaxBodyMB, k8sAuditStages, k8sJoinWindow,
        format, ecsDataset, stdout, outputFile, fileMaxMB, fileGenerations, syslog, syslogCA, syslogCertificate, syslogKey, http, httpFormat, httpIndex, httpHeaders, httpCA, stdoutOmit, fileOmit, syslogOmit, httpOmit, outputQueue, spoolDirectory, spoolMB, stateDirectory, statsInterval, healthListen, healthSocket, logLevel, logFormat,
    ]
}
