/// Where a process runs, as far as its cgroup and the node's Kubernetes files tell: the
/// first question about any event on a node is "which container, which pod?".
///
/// A process with a known cgroup that names no container and no pod is a host process.
public struct Workload: Sendable, Equatable {
    /// The process's cgroup path (the one that identified it; v2 when there is nothing better).
    public var cgroup: String? {
        get { fields.cgroup }
        set { uniqueFields().cgroup = newValue }
    }
    /// The systemd unit the cgroup belongs to (`ssh.service`), on the host or in a container.
    public var unit: String? {
        get { fields.unit }
        set { uniqueFields().unit = newValue }
    }
    public var container: Container? {
        get { fields.container }
        set { uniqueFields().container = newValue }
    }
    public var pod: Pod? {
        get { fields.pod }
        set { uniqueFields().pod = newValue }
    }

    /// The values, in one buffer that copies share until one of them changes: a workload
    /// is copied into the process table's entry of every process of a container (tens of
    /// thousands on a busy node) and into every event, where 144 bytes each added up to
    /// most of the table's memory.
    private final class Fields: @unchecked Sendable {
        // Changed only through `uniqueFields`, when no other workload shares it.
        var cgroup: String?
        var unit: String?
        var container: Container?
        var pod: Pod?

        init(cgroup: String?, unit: String?, container: Container?, pod: Pod?) {
            self.cgroup = cgroup
            self.unit = unit
            self.container = container
            self.pod = pod
        }
    }
    private var fields: Fields

    private mutating func uniqueFields() -> Fields {
        if !isKnownUniquelyReferenced(&fields) {
            fields = Fields(cgroup: fields.cgroup, unit: fields.unit, container: fields.container, pod: fields.pod)
        }
        return fields
    }

    public init(cgroup: String? = nil, unit: String? = nil, container: Container? = nil, pod: Pod? = nil) {
        fields = Fields(cgroup: cgroup, unit: unit, container: container, pod: pod)
    }

    public static func == (left: Workload, right: Workload) -> Bool {
        left.fields === right.fields
            || (left.cgroup == right.cgroup && left.unit == right.unit && left.container == right.container && left.pod == right.pod)
    }

    /// A process outside every container and pod.
    public var isHost: Bool { container == nil && pod == nil }

    public struct Container: Sendable, Equatable {
        /// The runtime's full id (64 hex characters).
        public var id: String
        /// `docker`, `containerd`, `cri-o`, `podman`; nil when the path does not say.
        public var runtime: String?
        /// The Kubernetes container name (from the node's log files) when known.
        public var name: String?

        public init(id: String, runtime: String? = nil, name: String? = nil) {
            self.id = id
            self.runtime = runtime
            self.name = name
        }
    }

    public struct Pod: Sendable, Equatable {
        public var uid: String
        /// `guaranteed`, `burstable` or `besteffort`.
        public var qosClass: String?
        public var name: String?
        public var namespace: String?

        public init(uid: String, qosClass: String? = nil, name: String? = nil, namespace: String? = nil) {
            self.uid = uid
            self.qosClass = qosClass
            self.name = name
            self.namespace = namespace
        }
    }
}
