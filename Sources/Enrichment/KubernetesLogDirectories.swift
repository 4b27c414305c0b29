import HostIO
import Attribution
import AuditEvents

/// The kubelet's log directories on this node, listed into a `PodIndex` and listed again
/// when an event names a pod or container the index does not know yet (at most once per
/// `relistIntervalMilliseconds`), so new pods are named without an API server.
package final class KubernetesLogDirectories {
    package let podLogRoot: String
    package let containerLogRoot: String
    package let relistIntervalMilliseconds: UInt64
    package private(set) var index = PodIndex()
    private var listedAt: UInt64 = 0

    package init(podLogRoot: String = "/var/log/pods", containerLogRoot: String = "/var/log/containers",
                relistIntervalMilliseconds: UInt64 = 1000) {
        self.podLogRoot = podLogRoot
        self.containerLogRoot = containerLogRoot
        self.relistIntervalMilliseconds = relistIntervalMilliseconds
        list(now: WallClock.nowMilliseconds())
    }

    /// Adds pod, namespace and container names to a workload.
    package func name(_ workload: inout Workload) {
        guard !workload.isHost else { return }
        let now = WallClock.nowMilliseconds()
        if index.misses(workload), now - listedAt >= relistIntervalMilliseconds { list(now: now) }
        index.name(&workload)
    }

    private func list(now: UInt64) {
        listedAt = now
        let pods = HostDirectory.entries(podLogRoot, directoriesOnly: true).map { pod in
            (name: pod, containers: HostDirectory.entries(podLogRoot + "/" + pod, directoriesOnly: true))
        }
        index.update(podDirectories: pods, containerLogs: HostDirectory.entries(containerLogRoot), nowMilliseconds: now)
    }
}
