import AuditKernel
import Enrichment
#if canImport(Glibc)
import Glibc
#endif

/// The settings of one `nodeaudit run`.
public struct LiveOptions: Sendable {
    public var ruleFiles: [String]
    /// Load `ruleFiles` before reading (and repair nothing later).
    public var applyRules: Bool
    public var mode: AuditEventSocket.Mode
    /// When another live process is the audit daemon, stop it and register in its place.
    public var takeOver: Bool
    /// On exit, remove the rules nodeaudit loaded and put back the settings it changed.
    public var cleanup: Bool
    /// Seconds between statistics lines on stderr; 0 for none (the final line is always written).
    public var statsIntervalSeconds: Double
    public var receiveBufferBytes: Int32
    /// Bytes of encoded events that may wait for a slow output before new ones are dropped
    /// (and counted); the reader never waits for the output.
    public var outputQueueBytes: Int
    public var events: EventOptions

    public init(ruleFiles: [String], applyRules: Bool, mode: AuditEventSocket.Mode, takeOver: Bool, cleanup: Bool,
                statsIntervalSeconds: Double, receiveBufferBytes: Int32, outputQueueBytes: Int = 64 << 20, events: EventOptions) {
        self.ruleFiles = ruleFiles
        self.applyRules = applyRules
        self.mode = mode
        self.takeOver = takeOver
        self.cleanup = cleanup
        self.statsIntervalSeconds = statsIntervalSeconds
        self.receiveBufferBytes = receiveBufferBytes
        self.outputQueueBytes = outputQueueBytes
        self.events = events
    }
}

/// How events are built and written, the same for `parse` and `run`.
public struct EventOptions: Sendable {
    public var includeRecords: Bool
    public var maxArgvBytes: Int
    public var useHostUsers: Bool
    public var eventTimeoutMilliseconds: UInt64
    /// Container and pod attribution from this host's /proc and kubelet log directories;
    /// nil for none (logs from another machine).
    public var attribution: AttributionOptions?
    /// The node name for events without `node=`; nil leaves them unnamed.
    public var nodeName: String?

    public init(includeRecords: Bool, maxArgvBytes: Int, useHostUsers: Bool, eventTimeoutMilliseconds: UInt64,
                attribution: AttributionOptions? = nil, nodeName: String? = nil) {
        self.includeRecords = includeRecords
        self.maxArgvBytes = maxArgvBytes
        self.useHostUsers = useHostUsers
        self.eventTimeoutMilliseconds = eventTimeoutMilliseconds
        self.attribution = attribution
        self.nodeName = nodeName
    }

    /// The enrichment steps these options ask for, in pipeline order.
    func enrichers() -> [any EventEnricher] {
        var steps: [any EventEnricher] = []
        if let nodeName { steps.append(NodeNamer(name: nodeName)) }
        if useHostUsers { steps.append(UserNameResolver(database: UserDatabase())) }
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
