#if canImport(Glibc)
import Pipeline
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Output
import Sigma

/// Wires `nodeaudit parse`: files → pipeline → stdout, summary on stderr.
package enum ParseRun {
    /// Runs the parse; false when it failed (the reason is already on stderr).
    package static func execute(_ options: ParseOptions) -> Bool {
        let diagnostics = Diagnostics(quiet: options.quiet)
        var sink: any EventSink = options.events.omissions["stdout"].map { FieldOmitting(FileDescriptorSink(), omitting: $0) }
            ?? FileDescriptorSink()
        var detector = options.events.sigmaDetector(diagnostics: diagnostics)
        if options.sigmaFields {
            let fields = FileDescriptorSink()
            detector = detector ?? SigmaDetector(rules: [])
            detector?.observer = { eventID, source, values in
                var w = JSONWriter(capacity: 4096)
                SigmaFieldRow.encode(eventID: eventID, source: source, fields: values, into: &w)
                try? fields.write(w.buffer)
            }
            sink = DiscardingSink(flushing: fields)
        }
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

/// One line of `nodeaudit sigma fields`: `{"event", "logsource", "fields": {NAME: [VALUE…]}}`.
enum SigmaFieldRow {
    static func encode(eventID: String, source: SigmaLogSource, fields: [(name: String, values: [[UInt8]])], into w: inout JSONWriter) {
        w.beginObject()
        w.member("event", eventID)
        w.member("logsource", source.rawValue)
        w.key("fields")
        w.beginObject()
        for field in fields {
            Array(field.name.utf8).withUnsafeBufferPointer { w.key(bytes: $0) }
            w.beginArray()
            for value in field.values { w.string(value[...]) }
            w.endArray()
        }
        w.endObject()
        w.endObject()
        w.newline()
    }
}

/// Takes the events and keeps none (`sigma fields` writes something else); its flush
/// flushes the sink that does the writing.
final class DiscardingSink: EventSink {
    private let flushing: any EventSink

    init(flushing: any EventSink) { self.flushing = flushing }

    func write(_ lines: [UInt8]) throws(SinkError) {}
    func flush() throws(SinkError) { try flushing.flush() }
}
