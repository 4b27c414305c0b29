import HostIO
import Logging
import Output
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// nodeaudit's own messages on stderr, never on stdout where events go: a line of text
/// (`2026-12-01T15:17:15.123Z info nodeaudit: message`) or, for pods whose stderr shares
/// the container log with the events, one JSON object per message
/// (`{"time":…,"level":"info","logger":"nodeaudit","message":…}`).
package struct StderrLogHandler: LogHandler {
    package enum Format: String, Sendable { case text, json }

    package var logLevel: Logger.Level
    package var metadata: Logger.Metadata = [:]
    private let label: String
    private let format: Format

    package init(label: String, level: Logger.Level, format: Format) {
        self.label = label
        self.logLevel = level
        self.format = format
    }

    package subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    package func log(event: LogEvent) {
        let now = WallClock.nowMilliseconds()
        let time = Timestamp.rfc3339(seconds: now / 1000, milliseconds: UInt16(now % 1000))
        var line: [UInt8]
        switch format {
        case .text:
            line = time + Array(" \(event.level) \(label): \(event.message)\n".utf8)
        case .json:
            var writer = JSONWriter(capacity: 256)
            writer.beginObject()
            writer.key("time")
            writer.string(String(decoding: time, as: UTF8.self))
            writer.key("level")
            writer.string(event.level.rawValue)
            writer.key("logger")
            writer.string(label)
            writer.key("message")
            writer.string(event.message.description)
            writer.endObject()
            writer.newline()
            line = writer.buffer
        }
        // One write per message: lines of two threads never interleave.
        var written = 0
        try? HostFile.writeAll(2, line[...], written: &written, path: "stderr")
    }

    private static let bootstrapped = Atomic<Bool>(false)

    /// Sends every `Logger` to stderr in this form; the first call wins, later ones are
    /// ignored (swift-log allows one bootstrap per process).
    package static func bootstrap(level: Logger.Level, format: Format) {
        guard !bootstrapped.exchange(true, ordering: .relaxed) else { return }
        LoggingSystem.bootstrap { label in StderrLogHandler(label: label, level: level, format: format) }
    }
}
