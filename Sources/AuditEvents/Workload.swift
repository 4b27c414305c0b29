/// Where a process runs, as far as its cgroup and the node's Kubernetes files tell: the
/// first question about any event on a node is "which container, which pod?".
///
/// A process with a known cgroup that names no container and no pod is a host process.
public struct Workload: Sendable, Equatable {
    /// The process's cgroup path (the one that identified it; v2 when there is nothing better).
    public var cgroup: String?
    /// The systemd unit the cgroup belongs to (`ssh.service`), on the host or in a container.
    public var unit: String?
    public var container: Container?
    public var pod: Pod?

    public init(cgroup: String? = nil, unit: String? = nil, container: Container? = nil, pod: Pod? = nil) {
        self.cgroup = cgroup
        self.unit = unit
        self.container = container
        self.pod = pod
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
