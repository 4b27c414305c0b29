#if canImport(Glibc)
import Pipeline
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Output
import Sigma
import KubernetesAudit
import Enrichment

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
        var joinSteps: [any EventEnricher] = []
        var lineJoin: EventLineJoin?
        if let kubernetes = options.kubernetes {
            let index = ExecRequestIndex(windowMilliseconds: kubernetes.joinWindowMilliseconds)
            guard readAPIAudit(kubernetes, options: options.events, index: index, sink: sink, diagnostics: diagnostics) else { return false }
            if options.files.isEmpty { return true }
            joinSteps = [ExecRequesterJoin(index: index)]
            lineJoin = EventLineJoin(index: index)
        }
        let pipeline = EventPipeline(options: options.events, sink: sink, extraSteps: joinSteps, detector: detector,
                                     renderingThread: options.threads > 1)
        let parser = OfflineParser(pipeline: pipeline, diagnostics: diagnostics, eventLineJoin: lineJoin)
        do throws(OfflineParser.InputError) {
            try parser.run(paths: options.files)
        } catch {
            diagnostics.error(error.description)
            return false
        }
        let counters = pipeline.snapshot()
        diagnostics.notice("parse: " + counters.summary)
        if let detector { diagnostics.notice("sigma: " + detector.summary) }
        if counters.lines > 0, counters.assembly.records == 0, lineJoin == nil {
            diagnostics.error("not one of the \(counters.lines) lines read was an audit record: is this an audit log?")
            return false
        }
        return true
    }
}

extension ParseRun {
    /// Reads the API server's audit logs into `sink` as k8s_api events, and their exec
    /// requests into `index`; false when a file cannot be read or the output written.
    static func readAPIAudit(_ kubernetes: KubernetesAuditOptions, options: EventOptions, index: ExecRequestIndex, sink: any EventSink,
                             diagnostics: Diagnostics) -> Bool {
        let encoder = APIEventEncoder(ecs: options.ecs, staticFields: options.staticFields, maxEventBytes: options.maxEventBytes)
        let stream = APIAuditStream(encoder: encoder, selection: kubernetes.stages, index: index,
                                    write: { line throws(SinkError) in try sink.write(line) },
                                    problem: { diagnostics.inputProblem($0, $1) })
        for path in kubernetes.files {
            do throws(OfflineParser.InputError) {
                try OfflineParser.forEachLine(path: path) { line, lineNumber in
                    switch line {
                    case .text(let text):
                        if !text.isEmpty { try stream.add(text, location: "\(path):\(lineNumber)") }
                    case .tooLong(let bytes):
                        stream.addTooLong(bytes: bytes, location: "\(path):\(lineNumber)")
                    }
                }
            } catch {
                diagnostics.error(error.description)
                return false
            }
        }
        do throws(SinkError) { try sink.flush() } catch {
            diagnostics.error(error.description)
            return false
        }
        diagnostics.notice("k8s-audit: " + stream.counters.summary)
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
