import KubernetesAudit
#if canImport(Glibc)
import Pipeline
import Glibc
#endif

/// The settings of one `nodeaudit parse` run.
package struct ParseOptions: Sendable {
    package var files: [String]
    package var events: EventOptions
    package var quiet: Bool
    /// 1: everything on one thread; 2: events are rendered and written on a second one.
    package var threads: Int
    /// `nodeaudit sigma fields`: write, instead of the events, the fields Sigma rules read
    /// of each (one line per log source that concerns it, per record for auditd).
    package var sigmaFields: Bool
    /// `--k8s-audit`: API server audit logs read before the node logs and joined to them.
    package var kubernetes: KubernetesAuditOptions?

    package init(files: [String], events: EventOptions, quiet: Bool, threads: Int = 1, sigmaFields: Bool = false) {
        self.files = files
        self.events = events
        self.quiet = quiet
        self.threads = threads
        self.sigmaFields = sigmaFields
    }

    /// 2 when two or more CPUs are online, else 1: a second thread only helps when it
    /// gets a CPU of its own.
    package static var defaultThreads: Int {
        sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 ? 2 : 1
    }
}

/// `parse --k8s-audit`: the API server's audit logs, which stages to write, and how far
/// apart an exec request and its session may be.
package struct KubernetesAuditOptions: Sendable {
    package var files: [String]
    package var stages: StageSelection
    package var joinWindowMilliseconds: Int64

    package init(files: [String], stages: StageSelection, joinWindowMilliseconds: Int64) {
        self.files = files
        self.stages = stages
        self.joinWindowMilliseconds = joinWindowMilliseconds
    }
}
