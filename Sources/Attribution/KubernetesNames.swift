import AuditEvents

/// Pod and container names from the kubelet's log layout, which every node has without
/// an API server: `/var/log/pods/<namespace>_<pod>_<uid>/<container>/` and
/// `/var/log/containers/<pod>_<namespace>_<container>-<id>.log`. Namespaces, pod and
/// container names cannot contain `_`, so the names split unambiguously.
package enum KubernetesNames {
    package struct PodDirectory: Sendable, Equatable {
        package var namespace: String
        package var name: String
        package var uid: String
    }

    package struct ContainerLog: Sendable, Equatable {
        package var pod: String
        package var namespace: String
        package var container: String
        package var id: String
    }

    /// `<namespace>_<pod>_<uid>`.
    package static func podDirectory(_ name: String) -> PodDirectory? {
        let parts = name.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        return PodDirectory(namespace: String(parts[0]), name: String(parts[1]), uid: parts[2].lowercased())
    }

    /// `<pod>_<namespace>_<container>-<64 hex id>.log`.
    package static func containerLog(_ fileName: String) -> ContainerLog? {
        guard fileName.hasSuffix(".log") else { return nil }
        let stem = fileName.dropLast(4)
        guard stem.count > 65 else { return nil }
        let id = stem.suffix(64)
        let rest = stem.dropLast(65)
        guard stem.dropLast(64).last == "-", CgroupPath.isContainerID(id) else { return nil }
        let parts = rest.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts.contains(where: \.isEmpty) else { return nil }
        return ContainerLog(pod: String(parts[0]), namespace: String(parts[1]), container: String(parts[2]), id: String(id))
    }
}

/// Pods by uid and containers by id, as the node's log directories listed them. Entries
/// of pods that went away are kept for `retentionMilliseconds`, so late events of a
/// deleted pod are still named.
package struct PodIndex: Sendable {
    package struct PodNames: Sendable, Equatable {
        package var namespace: String
        package var name: String
        /// The pod's container names (directories under its log directory).
        package var containers: [String]
    }

    package private(set) var pods: [String: PodNames] = [:]
    package private(set) var containers: [String: KubernetesNames.ContainerLog] = [:]
    private var lastListed: [String: UInt64] = [:]
    package let retentionMilliseconds: UInt64

    package init(retentionMilliseconds: UInt64 = 600_000) {
        self.retentionMilliseconds = retentionMilliseconds
    }

    /// Takes a new listing: pod directories (with their container directories) and
    /// container log file names. What is no longer listed ages out.
    package mutating func update(podDirectories: [(name: String, containers: [String])], containerLogs: [String],
                                nowMilliseconds now: UInt64) {
        for (directory, containerNames) in podDirectories {
            guard let pod = KubernetesNames.podDirectory(directory) else { continue }
            pods[pod.uid] = PodNames(namespace: pod.namespace, name: pod.name, containers: containerNames.sorted())
            lastListed["pod/" + pod.uid] = now
        }
        for file in containerLogs {
            guard let log = KubernetesNames.containerLog(file) else { continue }
            containers[log.id] = log
            lastListed["container/" + log.id] = now
        }
        for (key, seen) in lastListed where now - seen > retentionMilliseconds {
            lastListed[key] = nil
            if key.hasPrefix("pod/") { pods[String(key.dropFirst(4))] = nil } else { containers[String(key.dropFirst(10))] = nil }
        }
    }

    /// Adds the names the index knows to a workload; true when it named something.
    @discardableResult
    package func name(_ workload: inout Workload) -> Bool {
        var named = false
        if let id = workload.container?.id, let log = containers[id] {
            workload.container?.name = log.container
            if workload.pod == nil {
                // A pod found only through its container (the cgroup path had no pod).
                if let uid = pods.first(where: { $0.value.namespace == log.namespace && $0.value.name == log.pod })?.key {
                    workload.pod = Workload.Pod(uid: uid)
                }
            }
            named = true
        }
        if let uid = workload.pod?.uid, let pod = pods[uid] {
            workload.pod?.name = pod.name
            workload.pod?.namespace = pod.namespace
            if workload.container != nil, workload.container?.name == nil, pod.containers.count == 1 {
                workload.container?.name = pod.containers[0]
            }
            named = true
        }
        return named
    }

    /// Whether a workload names something this index should know but does not (a pod
    /// started after the last listing): time to list again.
    package func misses(_ workload: Workload) -> Bool {
        if let uid = workload.pod?.uid, pods[uid] == nil { return true }
        // A container without a pod too: its runtime's files were gone, and the log link
        // names the pod by the container id alone.
        if let id = workload.container?.id, containers[id] == nil { return true }
        return false
    }
}
