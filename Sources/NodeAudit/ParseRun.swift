#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Output

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

/// Wires `nodeaudit parse`: files → pipeline → stdout, summary on stderr.
public enum ParseRun {
    /// Runs the parse; false when it failed (the reason is already on stderr).
    public static func execute(_ options: ParseOptions) -> Bool {
        let diagnostics = Diagnostics(quiet: options.quiet)
        let pipeline = EventPipeline(
            options: options.events, sink: FileDescriptorSink(), renderingThread: options.threads > 1)
        let parser = OfflineParser(pipeline: pipeline, diagnostics: diagnostics)
        do throws(OfflineParser.Failure) {
            try parser.run(paths: options.files)
        } catch {
            diagnostics.error(error.description)
            return false
        }
        diagnostics.notice("parse: " + pipeline.snapshot().summary)
        return true
    }
}

/// The version nodeaudit reports.
public enum NodeAuditVersion {
    public static let string = "0.1.0"
}
