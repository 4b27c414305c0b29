import AuditKernel
import Configuration
import Enrichment
import Output
#if canImport(Glibc)
import Glibc
#endif

/// The settings of one `nodeaudit run`.
public struct LiveOptions: Sendable {
    public var ruleFiles: [String]
    /// Load `ruleFiles` before reading, and keep them loaded (drift repair).
    public var applyRules: Bool
    public var mode: AuditEventSocket.Mode
    /// When another live process is the audit daemon, stop it and register in its place.
    public var takeOver: Bool
    /// On exit, remove the rules nodeaudit loaded and put back the settings it changed.
    public var cleanup: Bool
    /// Seconds between comparisons of the kernel's rules and settings with `ruleFiles`; 0 for none.
    public var driftCheckSeconds: Double
    /// Seconds between statistics lines on stderr; 0 for none (the final line is always written).
    public var statsIntervalSeconds: Double
    public var receiveBufferBytes: Int32
    /// Bytes of encoded events that may wait for a slow output before new ones are dropped
    /// (and counted); the reader never waits for the output.
    public var outputQueueBytes: Int
    /// Write events to stdout.
    public var stdout: Bool
    /// Write events to a file rotated by size; nil for none.
    public var file: (path: String, maxBytes: Int, generations: Int)?
    /// Send events to a syslog collector; nil for none.
    public var syslog: (host: String, port: UInt16, transport: SyslogTransport.Transport)?
    public var syslogTLS: TLSSettings
    /// POST events to an HTTP(S) log store; nil for none.
    public var http: (url: String, format: HTTPTransport.Format, index: String, headers: [String], tls: TLSSettings)?
    /// Where spools of collector outputs live, and their size each.
    public var spoolDirectory: String
    public var spoolBytes: Int
    /// Where the stream state for the next run is kept.
    public var stateDirectory: String
    /// `ADDRESS:PORT` for /healthz and /metrics; nil for none.
    public var healthListen: String?
    public var events: EventOptions

    /// The options a layered configuration (defaults, file, environment, flags) gives.
    public init(configuration c: Configuration) {
        ruleFiles = DefaultRules.resolve(c.texts(.ruleFiles))
        applyRules = c.bool(.applyRules)
        mode = c.text(.mode) == "multicast" ? .multicast : .unicast
        takeOver = c.bool(.takeOver)
        cleanup = c.bool(.cleanup)
        driftCheckSeconds = c.number(.driftCheck)
        statsIntervalSeconds = c.number(.statsInterval)
        receiveBufferBytes = Int32(c.integer(.receiveBuffer))
        outputQueueBytes = c.integer(.outputQueue) << 20
        healthListen = c.text(.healthListen).isEmpty ? nil : c.text(.healthListen)
        stdout = c.bool(.stdout)
        syslog = SyslogAddress.parse(c.text(.syslog))
        let nonEmpty = { (text: String) in text.isEmpty ? nil : text }
        syslogTLS = TLSSettings(caFile: nonEmpty(c.text(.syslogCA)), certificateFile: nonEmpty(c.text(.syslogCertificate)),
                                keyFile: nonEmpty(c.text(.syslogKey)))
        http = nonEmpty(c.text(.http)).map {
            ($0, HTTPTransport.Format(rawValue: c.text(.httpFormat)) ?? .elasticsearch, c.text(.httpIndex), c.texts(.httpHeaders),
             TLSSettings(caFile: nonEmpty(c.text(.httpCA))))
        }
        spoolDirectory = c.text(.spoolDirectory)
        spoolBytes = c.integer(.spoolMB) << 20
        stateDirectory = c.text(.stateDirectory)
        file = c.text(.outputFile).isEmpty ? nil : (c.text(.outputFile), c.integer(.fileMaxMB) << 20, c.integer(.fileGenerations))
        let nodeName = c.text(.nodeName)
        events = EventOptions(configuration: c, attribute: c.bool(.attribution),
                              nodeName: nodeName.isEmpty ? EventOptions.localNodeName() : nodeName)
    }
}

/// How events are built and written, the same for `parse` and `run`.
public struct EventOptions: Sendable {
    public var includeRecords: Bool
    /// The Elastic Common Schema instead of nodeaudit's own.
    public var ecs: Bool
    public var maxArgvBytes: Int
    /// The longest line an event may be; a longer one is cut and marked `truncated`.
    public var maxEventBytes: Int
    /// The passwd and group files that name user and group ids; nil for none.
    public var userFiles: (passwd: String, group: String)?
    public var eventTimeoutMilliseconds: UInt64
    /// Container and pod attribution from this host's /proc and kubelet log directories;
    /// nil for none (logs from another machine).
    public var attribution: AttributionOptions?
    /// The node name for events without `node=`; nil leaves them unnamed.
    public var nodeName: String?

    public init(configuration c: Configuration, attribute: Bool, nodeName: String?) {
        includeRecords = c.bool(.includeRecords)
        ecs = c.text(.format) == "ecs"
        maxArgvBytes = c.integer(.maxArgvBytes)
        maxEventBytes = c.integer(.maxEventBytes)
        userFiles = c.bool(.hostUsers) ? (c.text(.passwdFile), c.text(.groupFile)) : nil
        eventTimeoutMilliseconds = UInt64(c.number(.eventTimeout) * 1000)
        attribution = attribute
            ? AttributionOptions(procRoot: c.text(.procRoot), podLogRoot: c.text(.podLogs), containerLogRoot: c.text(.containerLogs))
            : nil
        self.nodeName = nodeName
    }

    /// The enrichment steps these options ask for, in pipeline order.
    func enrichers() -> [any EventEnricher] {
        var steps: [any EventEnricher] = []
        if let nodeName { steps.append(NodeNamer(name: nodeName)) }
        if let userFiles { steps.append(UserNameResolver(passwdPath: userFiles.passwd, groupPath: userFiles.group)) }
        steps.append(LoginSessionTracker())
        if let attribution {
            let resolver = WorkloadResolver(
                proc: ProcFS(root: attribution.procRoot),
                kubernetes: KubernetesLogDirectories(podLogRoot: attribution.podLogRoot, containerLogRoot: attribution.containerLogRoot))
            resolver.scanProcesses()
            steps.append(resolver)
        }
        return steps
    }
}

/// Where attribution reads the host: /proc and the kubelet's log directories.
public struct AttributionOptions: Sendable {
    public var procRoot: String
    public var podLogRoot: String
    public var containerLogRoot: String

    public init(procRoot: String = "/proc", podLogRoot: String = "/var/log/pods", containerLogRoot: String = "/var/log/containers") {
        self.procRoot = procRoot
        self.podLogRoot = podLogRoot
        self.containerLogRoot = containerLogRoot
    }
}

extension EventOptions {
    /// The node's name as Kubernetes knows it (`NODE_NAME` from the downward API), else the host name.
    public static func localNodeName() -> String {
        if let name = getenv("NODE_NAME").map({ String(cString: $0) }), !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// `tcp://HOST:PORT`, `tls://HOST:PORT` or `udp://HOST:PORT` (`[v6]:PORT` too).
public enum SyslogAddress {
    public static func parse(_ text: String) -> (host: String, port: UInt16, transport: SyslogTransport.Transport)? {
        guard let schemeEnd = text.range(of: "://"), let transport = SyslogTransport.Transport(rawValue: String(text[..<schemeEnd.lowerBound])),
              let colon = text.lastIndex(of: ":"), colon > schemeEnd.upperBound, let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[schemeEnd.upperBound..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port, transport)
    }
}
