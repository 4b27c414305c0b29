#if canImport(Glibc)
import Pipeline
import Glibc
#endif

/// The settings of one `nodeaudit parse` run.
public struct ParseOptions: Sendable {
    public var files: [String]
    public var events: EventOptions
    public var quiet: Bool
    /// 1: everything on one thread; 2: events are rendered and written on a second one.
    public var threads: Int

    public init(files: [String], events: EventOptions, quiet: Bool, threads: Int = 1) {
        self.files = files
        self.events = events
        self.quiet = quiet
        self.threads = threads
    }

    /// 2 when two or more CPUs are online, else 1: a second thread only helps when it
    /// gets a CPU of its own.
    public static var defaultThreads: Int {
        sysconf(Int32(_SC_NPROCESSORS_ONLN)) >= 2 ? 2 : 1
    }
}
