import AuditEvents
import Configuration
import Enrichment
import Output
import Sigma
#if canImport(Glibc)
import Glibc
#endif

/// How events are built and written, the same for `parse` and `run`.
package struct EventOptions: Sendable {
    package var includeRecords: Bool
    /// Native events without what repeats (`events.profile: compact`).
    package var compact: Bool
    /// The Elastic Common Schema instead of nodeaudit's own.
    package var ecs: Bool
    /// ECS `event.module`/`event.dataset`: nodeaudit's or the auditd integrations'.
    package var ecsDataset: ECSEncoder.Dataset
    package var maxArgvBytes: Int
    /// The longest line an event may be; a longer one is cut and marked `truncated`.
    package var maxEventBytes: Int
    /// The passwd and group files that name user and group ids; nil for none.
    package var userFiles: (passwd: String, group: String)?
    /// With `userFiles`: name the ids only of events from this node (`node=` equal to
    /// its name), since another machine's ids are other users; nil names every event's.
    package var userNamesOnlyFor: String?
    package var eventTimeoutMilliseconds: UInt64
    /// Container and pod attribution from this host's /proc and kubelet log directories;
    /// nil for none (logs from another machine).
    package var attribution: AttributionOptions?
    /// The node name for events without `node=`; nil leaves them unnamed.
    package var nodeName: String?
    /// The cluster name and fields every event carries.
    package var staticFields: StaticFields
    /// Which events are dropped after enrichment, in order.
    package var filters: [EventFilter]
    /// Labels given to processes and their descendants, and how many processes to remember.
    package var labelRules: [LabelRule]
    package var sessionLabels: Bool
    package var labelProcesses: Int
    /// What each output (stdout, file, syslog, http) leaves out of its lines; absent: nothing.
    package var omissions: [String: FieldOmission]
    /// Ancestors listed above the parent (0: no parent or ancestry), and how many processes to remember.
    package var ancestryDepth: Int
    /// Sigma rule files and directories (`detection.sigma`).
    package var sigmaPaths: [String]
    package var ancestryProcesses: Int
    /// The /proc of the host whose events these are, read once so that ancestry reaches the
    /// processes that started before nodeaudit; nil for logs from another machine.
    package var hostProcRoot: String?

    /// `onThisHost`: the events come from this machine (always for `run`); `attribute`:
    /// attribute them to containers and pods too.
    package init(configuration c: Configuration, onThisHost: Bool, attribute: Bool, nodeName: String?) {
        includeRecords = c.bool(.includeRecords)
        compact = c.text(.profile) == "compact"
        ecs = c.text(.format) == "ecs"
        ecsDataset = ECSEncoder.Dataset(rawValue: c.text(.ecsDataset)) ?? .nodeaudit
        maxArgvBytes = c.integer(.maxArgvBytes)
        maxEventBytes = c.integer(.maxEventBytes)
        userFiles = c.bool(.hostUsers) ? (c.text(.passwdFile), c.text(.groupFile)) : nil
        // A log read offline may come from any machine: its ids are named from this one's
        // files only when asked (events.host_users given) or when it says it is from here.
        userNamesOnlyFor = onThisHost || c.isSet(.hostUsers) ? nil : Self.nodeName(c)
        eventTimeoutMilliseconds = UInt64(c.number(.eventTimeout) * 1000)
        attribution = attribute
            ? AttributionOptions(procRoot: c.text(.procRoot), podLogRoot: c.text(.podLogs), containerLogRoot: c.text(.containerLogs),
                                 runtimePrograms: c.texts(.runtimes), hostRoot: c.hostRoot)
            : nil
        self.nodeName = nodeName
        let clusterName = c.text(.clusterName)
        staticFields = StaticFields(clusterName: clusterName.isEmpty ? nil : clusterName, fields: c.staticFields)
        filters = c.filters
        labelRules = c.labelRules
        sessionLabels = c.bool(.sessionLabels)
        omissions = c.omissions
        labelProcesses = c.integer(.labelProcesses)
        ancestryDepth = c.integer(.ancestryDepth)
        sigmaPaths = c.texts(.sigma)
        ancestryProcesses = c.integer(.ancestryProcesses)
        hostProcRoot = onThisHost ? c.text(.procRoot) : nil
    }

    /// The Sigma rules of `sigmaPaths`, nil when none are named. Refused rules and
    /// unreadable files are said on stderr and left out: `nodeaudit sigma check` is the
    /// strict check.
    package func sigmaDetector(diagnostics: Diagnostics) -> SigmaDetector? {
        guard !sigmaPaths.isEmpty else { return nil }
        let set = Self.loadSigma(sigmaPaths, diagnostics: diagnostics)
        return SigmaDetector(rules: set.rules, correlations: set.correlations)
    }

    /// Loads Sigma rules, saying each refusal and the count on stderr.
    package static func loadSigma(_ paths: [String], diagnostics: Diagnostics) -> SigmaRuleSet {
        let set = SigmaRuleSet.load(paths)
        for refusal in set.refusals { diagnostics.warning("sigma: \(refusal)") }
        for file in set.unreadable { diagnostics.error("sigma: cannot read \(file)") }
        diagnostics.notice("sigma: \(set.rules.count) rules loaded"
            + (set.correlations.isEmpty ? "" : " and \(set.correlations.count) correlations") + ", \(set.refusals.count) refused")
        return set
    }

    /// The process tree for ancestry, when asked for; on this host it starts with the
    /// processes running now.
    package func lineage() -> ProcessLineage? {
        guard ancestryDepth > 0 else { return nil }
        let lineage = ProcessLineage(depth: ancestryDepth, capacity: ancestryProcesses)
        if let hostProcRoot {
            let proc = ProcFS(root: hostProcRoot)
            proc.seed(lineage)
            lineage.startedBefore = proc.startedBefore
        }
        return lineage
    }

    /// The enrichment steps these options ask for, in pipeline order.
    package func enrichers() -> [any EventEnricher] {
        var steps: [any EventEnricher] = []
        if let nodeName { steps.append(NodeNamer(name: nodeName)) }
        if let userFiles {
            steps.append(UserNameResolver(passwdPath: userFiles.passwd, groupPath: userFiles.group, onlyNode: userNamesOnlyFor))
        }
        // Before logins: a login record sent from a container opens no session on the host.
        if let attribution {
            let resolver = WorkloadResolver(
                proc: ProcFS(root: attribution.procRoot),
                kubernetes: KubernetesLogDirectories(podLogRoot: attribution.podLogRoot, containerLogRoot: attribution.containerLogRoot),
                runtimes: attribution.runtimes)
            resolver.scanProcesses()
            steps.append(resolver)
        }
        steps.append(LoginSessionTracker())
        return steps
    }
}

package extension EventOptions {
    /// `attribution.node_name`, else this node's own name.
    static func nodeName(_ c: Configuration) -> String {
        c.text(.nodeName).isEmpty ? localNodeName() : c.text(.nodeName)
    }

    /// The node's name as Kubernetes knows it (`NODE_NAME` from the downward API), else the host name.
    static func localNodeName() -> String {
        if let name = getenv("NODE_NAME").map({ String(cString: $0) }), !name.isEmpty { return name }
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
