import Pipeline
import HostIO
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import AuditRecords
import Output
import KubernetesAudit

/// `nodeaudit parse`: reads audit.log files (RAW or ENRICHED) or stdin into the pipeline.
///
/// All inputs feed one pipeline in the order given, so an event split across rotated
/// files (`audit.log.1`, then `audit.log`) is still one event.
package struct OfflineParser {
    package let pipeline: EventPipeline
    package let diagnostics: Diagnostics
    /// With `--k8s-audit`: events nodeaudit already wrote (JSON lines) are joined to the
    /// API requests instead of read as records.
    package let eventLineJoin: EventLineJoin?

    package init(pipeline: EventPipeline, diagnostics: Diagnostics, eventLineJoin: EventLineJoin? = nil) {
        self.pipeline = pipeline
        self.diagnostics = diagnostics
        self.eventLineJoin = eventLineJoin
    }

    package enum InputError: Error, CustomStringConvertible {
        case cannotOpen(path: String, reason: String)
        case cannotRead(path: String, reason: String)
        case output(String)

        package var description: String {
            switch self {
            case .cannotOpen(let path, let reason): return "cannot open \(path): \(reason)"
            case .cannotRead(let path, let reason): return "cannot read \(path): \(reason)"
            case .output(let reason): return reason
            }
        }
    }

    private static let ausearchTime = Array("time->".utf8)

    /// Calls `body` with each line of `path` (plain or gzip) and its number.
    package static func forEachLine(path: String, maximumLineBytes: Int = APIAuditStream.maximumLineBytes,
                                    _ body: (LineReader.Line, Int) throws -> Void) throws(InputError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .cannotOpen(path: path, reason: SystemError.current) }
        defer { close(fd) }
        _ = try forEachLine(fd: fd, name: path, maximumLineBytes: maximumLineBytes, decompressing: LineReader.isCompressed(fd), body)
    }

    /// Calls `body` with each line of `fd` and its number; the bytes read. A failure of
    /// the body's writes is an output error, any other a read error of `name`.
    private static func forEachLine(fd: Int32, name: String, maximumLineBytes: Int, decompressing: Bool,
                                    _ body: (LineReader.Line, Int) throws -> Void) throws(InputError) -> UInt64 {
        var lineNumber = 0
        do {
            let reader = try LineReader(fd: fd, maximumLineBytes: maximumLineBytes, decompressing: decompressing)
            return try reader.forEachLine { line in
                lineNumber += 1
                try body(line, lineNumber)
            }
        } catch let error as SinkError {
            throw .output(error.description)
        } catch let error as LineReader.ReadError {
            throw .cannotRead(path: name, reason: error.description)
        } catch {
            throw .cannotRead(path: name, reason: "\(error)")
        }
    }

    /// Reads each path (`-` or none for stdin) and finishes the pipeline.
    package func run(paths: [String]) throws(InputError) {
        let inputs = paths.isEmpty ? ["-"] : paths
        for path in inputs {
            let fd: Int32 = path == "-" ? 0 : open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw .cannotOpen(path: path, reason: SystemError.current) }
            defer { if fd != 0 { close(fd) } }
            try read(fd: fd, name: path == "-" ? "<stdin>" : path)
        }
        do throws(SinkError) { try pipeline.finish() } catch { throw .output(error.description) }
    }

    private func read(fd: Int32, name: String) throws(InputError) {
        var lines = 0
        var joinedLines: [UInt8] = []
        var stamps = StampReader()
        let bytes = try Self.forEachLine(fd: fd, name: name, maximumLineBytes: RecordParser.maximumRecordBytes,
                                         decompressing: fd != 0 && LineReader.isCompressed(fd)) { line, lineNumber in
            lines = lineNumber
            switch line {
            case .tooLong(let count):
                pipeline.countMalformed()
                diagnostics.inputProblem("\(name):\(lineNumber)", RecordParseError.tooLong(count).description)
            case .text(let text):
                if text.isEmpty { return }
                if let eventLineJoin, text.first == UInt8(ascii: "{") {
                    guard let joined = eventLineJoin.join(text) else {
                        pipeline.countMalformed()
                        return diagnostics.inputProblem("\(name):\(lineNumber)", "a JSON line that is not a nodeaudit event")
                    }
                    joinedLines += joined
                    if joinedLines.count >= 128 * 1024 {
                        try pipeline.writeOwnLines(joinedLines)
                        joinedLines.removeAll(keepingCapacity: true)
                    }
                    return
                }
                do {
                    try pipeline.add(try RecordParser.parseLogLine(text, stamps: &stamps))
                } catch let error as RecordParseError {
                    // ausearch's output: `----` between events, `time->…` before each.
                    if text.equals("----") { return try pipeline.separator() }
                    if text.starts(with: Self.ausearchTime) { return }
                    pipeline.countMalformed()
                    diagnostics.inputProblem("\(name):\(lineNumber)", error.description)
                }
            }
        }
        do throws(SinkError) {
            if !joinedLines.isEmpty { try pipeline.writeOwnLines(joinedLines) }
        } catch {
            throw .output(error.description)
        }
        pipeline.countInput(bytes: bytes, lines: UInt64(lines))
    }
}
