import AuditEvents
import Enrichment
import Output

/// The settings of one `nodeaudit parse` run.
public struct ParseOptions: Sendable {
    public var files: [String]
    public var includeRecords: Bool
    public var maxArgvBytes: Int
    public var useHostUsers: Bool
    public var eventTimeoutMilliseconds: UInt64
    public var quiet: Bool

    public init(files: [String], includeRecords: Bool, maxArgvBytes: Int, useHostUsers: Bool,
                eventTimeoutMilliseconds: UInt64, quiet: Bool) {
        self.files = files
        self.includeRecords = includeRecords
        self.maxArgvBytes = maxArgvBytes
        self.useHostUsers = useHostUsers
        self.eventTimeoutMilliseconds = eventTimeoutMilliseconds
        self.quiet = quiet
    }
}

/// Wires `nodeaudit parse`: files → pipeline → stdout, summary on stderr.
public enum ParseRun {
    /// Runs the parse; false when it failed (the reason is already on stderr).
    public static func execute(_ options: ParseOptions) -> Bool {
        let diagnostics = Diagnostics(quiet: options.quiet)
        let pipeline = EventPipeline(
            assembly: AssemblyPolicy(maxEventAgeMilliseconds: options.eventTimeoutMilliseconds),
            interpreter: EventInterpreter(argvByteLimit: options.maxArgvBytes),
            userNames: options.useHostUsers ? UserNameResolver(database: UserDatabase()) : nil,
            encoder: NativeJSONEncoder(includeRecords: options.includeRecords),
            sink: FileDescriptorSink())
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
