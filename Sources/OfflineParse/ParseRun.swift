#if canImport(Glibc)
import Pipeline
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Output

/// Wires `nodeaudit parse`: files → pipeline → stdout, summary on stderr.
package enum ParseRun {
    /// Runs the parse; false when it failed (the reason is already on stderr).
    package static func execute(_ options: ParseOptions) -> Bool {
        let diagnostics = Diagnostics(quiet: options.quiet)
        let sink: any EventSink = options.events.omissions["stdout"].map { FieldOmitting(FileDescriptorSink(), omitting: $0) }
            ?? FileDescriptorSink()
        let detector = options.events.sigmaDetector(diagnostics: diagnostics)
        let pipeline = EventPipeline(options: options.events, sink: sink, detector: detector, renderingThread: options.threads > 1)
        let parser = OfflineParser(pipeline: pipeline, diagnostics: diagnostics)
        do throws(OfflineParser.InputError) {
            try parser.run(paths: options.files)
        } catch {
            diagnostics.error(error.description)
            return false
        }
        let counters = pipeline.snapshot()
        diagnostics.notice("parse: " + counters.summary)
        if let detector { diagnostics.notice("sigma: " + detector.summary) }
        if counters.lines > 0, counters.assembly.records == 0 {
            diagnostics.error("not one of the \(counters.lines) lines read was an audit record: is this an audit log?")
            return false
        }
        return true
    }
}
