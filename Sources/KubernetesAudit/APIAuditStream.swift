/// The API audit input after its source (a log file, the webhook, `parse --k8s-audit`):
/// lines or bodies in, `k8s_api` lines out, exec requests filed for the join. A bad line
/// is counted by kind and reported through `problem`; it never stops the stream.
package final class APIAuditStream {
    package struct Counters: Sendable, Equatable {
        /// Lines (or bodies) read.
        package var lines: UInt64 = 0
        package var events: UInt64 = 0
        /// Events the stage selection wrote.
        package var written: UInt64 = 0
        package var malformed: UInt64 = 0
        package var unknownAPIVersion: UInt64 = 0
        package var notEvents: UInt64 = 0
        package var tooLong: UInt64 = 0
        /// Allowed exec requests filed for the join.
        package var execRequests: UInt64 = 0

        package init() {}

        package var rejected: UInt64 { malformed + unknownAPIVersion + notEvents + tooLong }

        package var summary: String {
            "\(lines) lines, \(events) API events, \(written) written, \(execRequests) exec requests; rejected: "
                + "\(malformed) not JSON, \(unknownAPIVersion) unknown apiVersion, \(notEvents) not audit events, \(tooLong) too long"
        }
    }

    /// The longest line or body read (a request object of a large ConfigMap, say); longer
    /// ones are skipped and counted.
    package static let maximumLineBytes = 8 << 20

    private let encoder: APIEventEncoder
    private var selection: StageSelection
    private let index: ExecRequestIndex?
    private let write: ([UInt8]) throws -> Void
    private let problem: (String, String) -> Void
    package private(set) var counters = Counters()

    /// `write` takes each line; `problem(location, message)` each rejected input.
    package init(encoder: APIEventEncoder, selection: StageSelection, index: ExecRequestIndex?,
                 write: @escaping ([UInt8]) throws -> Void, problem: @escaping (String, String) -> Void) {
        self.encoder = encoder
        self.selection = selection
        self.index = index
        self.write = write
        self.problem = problem
    }

    /// One line of the log backend or one webhook body; `location` names it in messages.
    package func add<C: Collection>(_ bytes: C, location: @autoclosure () -> String) throws where C.Element == UInt8 {
        counters.lines += 1
        let events: [APIAuditEvent]
        do throws(APIAuditDecoder.Failure) {
            events = try APIAuditDecoder.decode(bytes)
        } catch {
            switch error {
            case .malformedJSON: counters.malformed += 1
            case .unknownAPIVersion: counters.unknownAPIVersion += 1
            case .notAnAuditEvent, .missingAuditID: counters.notEvents += 1
            }
            problem(location(), error.description)
            return
        }
        for event in events {
            counters.events += 1
            if index?.add(event) == true { counters.execRequests += 1 }
            if selection.selects(event) {
                try write(encoder.encode(event))
                counters.written += 1
            }
        }
    }

    /// A line longer than the input's bound, skipped whole.
    package func addTooLong(bytes: Int, location: String) {
        counters.lines += 1
        counters.tooLong += 1
        problem(location, "a line of \(bytes) bytes, over the bound; skipped")
    }
}
