import Attribution
import Enrichment

/// Where attribution reads the host: /proc, the kubelet's log directories, and the
/// container runtime's programs and files.
package struct AttributionOptions: Sendable {
    package var procRoot: String
    package var podLogRoot: String
    package var containerLogRoot: String
    /// The runtime programs believed (`attribution.runtimes`).
    package var runtimePrograms: [String]
    /// The node's root as nodeaudit sees it, where the runtime's files are read ("" on the node).
    package var hostRoot: String

    package init(procRoot: String, podLogRoot: String, containerLogRoot: String, runtimePrograms: [String], hostRoot: String) {
        self.procRoot = procRoot
        self.podLogRoot = podLogRoot
        self.containerLogRoot = containerLogRoot
        self.runtimePrograms = runtimePrograms
        self.hostRoot = hostRoot
    }

    /// The runtime programs and files the resolver follows launches with.
    package var runtimes: (programs: RuntimePrograms, files: RuntimeFiles) {
        (RuntimePrograms(paths: runtimePrograms), RuntimeFiles(hostRoot: hostRoot))
    }
}
