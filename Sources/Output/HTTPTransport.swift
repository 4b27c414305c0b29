#if canImport(Glibc)
import Glibc
#endif

/// Events POSTed to an HTTP(S) log store in batches: the Elasticsearch / OpenSearch
/// `_bulk` API (each event a `create` with the event's own id as `_id`, so a batch sent
/// again after a failure adds nothing twice), or a plain JSON-lines body for generic
/// collectors (Vector, Fluent Bit, Loki's push gateways…). A batch counts as sent only
/// when the server answered 2xx (and, for `_bulk`, every item was created or existed).
///
/// Answers are sorted: no connection, 408, 429 and 5xx are retried (the spool keeps the
/// batch); any other 4xx, and `_bulk` items refused with such a status (a mapping error),
/// are refused for good: no resend can fix them, so they go to the dead-letter file and
/// the spool flows on.
public final class HTTPTransport: LineTransport {
    public enum Format: String, Sendable { case elasticsearch, ndjson }

    public let url: String
    private let secure: Bool
    private let host: String
    private let port: UInt16
    private let path: String
    private let format: Format
    private let index: String
    private let headers: [String]
    private let tlsSettings: TLSSettings
    private var descriptor: Int32 = -1
    private var tls: TLSStream?

    /// - Parameters:
    ///   - url: `http(s)://HOST[:PORT]/PATH`; for Elasticsearch the `_bulk` endpoint.
    ///   - headers: extra `Name: value` lines (an `Authorization` header, say).
    public init?(url: String, format: Format, index: String, headers: [String] = [], tls: TLSSettings = TLSSettings()) {
        guard let parsed = Self.parse(url) else { return nil }
        self.url = url
        (secure, host, port, path) = parsed
        self.format = format
        self.index = index
        self.headers = headers
        self.tlsSettings = tls
    }

    deinit { reset() }

    /// `(https?, host, port, path)` of an http or https URL.
    public static func parse(_ url: String) -> (Bool, String, UInt16, String)? {
        let secure: Bool
        var rest: Substring
        if url.hasPrefix("https://") { (secure, rest) = (true, url.dropFirst(8)) } else if url.hasPrefix("http://") { (secure, rest) = (false, url.dropFirst(7)) } else { return nil }
        let authority = rest.prefix { $0 != "/" }
        rest = rest.dropFirst(authority.count)
        var host = authority
        var port: UInt16 = secure ? 443 : 80
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            guard let number = UInt16(authority[authority.index(after: colon)...]) else { return nil }
            port = number
            host = authority[..<colon]
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        return (secure, String(host), port, rest.isEmpty ? "/" : String(rest))
    }

    public func send(_ lines: ArraySlice<UInt8>) throws(SinkError) -> Refusal? {
        let body = format == .elasticsearch ? bulkBody(lines) : Array(lines)
        let lineCount = lines.count { $0 == UInt8(ascii: "\n") }
        // A kept-alive connection the server has closed fails at once: try a fresh one.
        for attempt in 0..<2 {
            do throws(SinkError) {
                return try post(body, lineCount: lineCount)
            } catch {
                reset()
                if attempt == 1 { throw error }
            }
        }
        return nil
    }

    /// Acknowledged per request: a closed idle connection loses nothing.
    public func isHealthy() -> Bool { true }

    public var acknowledgesDelivery: Bool { true }

    /// Whether an answer's status says "try again later" rather than "never".
    static func isRetryable(_ status: Int) -> Bool {
        status == 408 || status == 429 || status >= 500 || status < 100
    }

    public func reset() {
        tls = nil
        if descriptor >= 0 { close(descriptor) }
        descriptor = -1
    }

    /// `{"create":{"_index":…,"_id":EVENT ID}}` before each event.
    private func bulkBody(_ lines: ArraySlice<UInt8>) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(lines.count * 2)
        var start = lines.startIndex
        while start < lines.endIndex {
            let end = (lines[start...].firstIndex(of: UInt8(ascii: "\n")) ?? lines.endIndex - 1) + 1
            let line = lines[start..<end]
            body += Array("{\"create\":{\"_index\":\"\(index)\"".utf8)
            if let id = Self.eventID(line) { body += Array(",\"_id\":\"".utf8) + id + Array("\"".utf8) }
            body += Array("}}\n".utf8)
            body += line
            start = end
        }
        return body
    }

    /// The event's id, where both encoders put it at the start of the line: the native
    /// form's leading `{"id":"…"`, or ECS's `{"@timestamp":"…","event":{"id":"…"` (the
    /// timestamp holds no quote). nil for a line of neither shape.
    static func eventID(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8>? {
        var start = line.startIndex
        if line.starts(with: nativePrefix) {
            start += nativePrefix.count
        } else if line.starts(with: ecsTimestamp) {
            guard let stampEnd = line[(start + ecsTimestamp.count)...].firstIndex(of: UInt8(ascii: "\"")),
                  line[(stampEnd + 1)...].starts(with: ecsEventID) else { return nil }
            start = stampEnd + 1 + ecsEventID.count
        } else {
            return nil
        }
        guard let end = line[start...].firstIndex(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }),
              line[end] == UInt8(ascii: "\"") else { return nil }
        return line[start..<end]
    }

    private static let nativePrefix = Array("{\"id\":\"".utf8)
    private static let ecsTimestamp = Array("{\"@timestamp\":\"".utf8)
    private static let ecsEventID = Array(",\"event\":{\"id\":\"".utf8)

    private func post(_ body: [UInt8], lineCount: Int) throws(SinkError) -> Refusal? {
        if descriptor < 0 { try connect() }
        var request = "POST \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: nodeaudit\r\n"
        request += "Content-Type: application/x-ndjson\r\nContent-Length: \(body.count)\r\n"
        for header in headers { request += header + "\r\n" }
        request += "\r\n"
        try transmit(Array(request.utf8) + body)
        let (status, responseBody) = try readResponse()
        let answer = "HTTP \(status) \(String(decoding: responseBody.prefix(300), as: UTF8.self))"
        guard (200..<300).contains(status) else {
            if Self.isRetryable(status) { throw SinkError("POST \(url): \(answer)") }
            return Refusal(lines: Array(0..<lineCount), reason: "POST \(url): \(answer)")
        }
        guard format == .elasticsearch else { return nil }
        switch Self.bulkItems(responseBody, count: lineCount) {
        case .allStored: return nil
        case .retry(let itemStatus): throw SinkError("POST \(url): an item was answered \(itemStatus): \(answer)")
        case .refused(let lines): return Refusal(lines: lines, reason: "POST \(url): \(lines.count) items refused: \(answer)")
        }
    }

    enum BulkAnswer: Equatable {
        /// Every item was created, or existed already (409: a resend).
        case allStored
        /// An item may be stored if sent again (429, 5xx): the batch is resent (creates
        /// by id store nothing twice).
        case retry(Int)
        /// These items (by position) were refused for good.
        case refused([Int])
    }

    /// The text after `"key"` and its colon (blanks skipped), or after the colon that
    /// starts `text` when `key` is nil; nil when there is no such member.
    private static func value(of key: String?, in text: Substring) -> Substring? {
        var rest = text
        if let key {
            guard let range = rest.firstRange(of: "\"\(key)\"") else { return nil }
            rest = rest[range.upperBound...]
        }
        rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
        guard rest.first == ":" else { return nil }
        return rest.dropFirst().drop { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }
    }

    /// Reads a `_bulk` answer's per-item statuses, in item order. An answer whose items
    /// do not match the batch is refused whole: the store said something nodeaudit cannot map.
    static func bulkItems(_ body: [UInt8], count: Int) -> BulkAnswer {
        let text = Substring(String(decoding: body, as: UTF8.self))
        guard let errors = value(of: "errors", in: text), errors.hasPrefix("true") else { return .allStored }
        // Item objects hold one "status" each; error reasons are strings, where a quote
        // is escaped, so `"status"` never matches inside them.
        var statuses: [Int] = []
        var rest = text
        while let range = rest.firstRange(of: "\"status\"") {
            rest = rest[range.upperBound...]
            guard let status = value(of: nil, in: rest) else { continue }
            statuses.append(Int(status.prefix { $0.isNumber }) ?? 0)
        }
        guard statuses.count == count else { return .refused(Array(0..<count)) }
        if let retryable = statuses.first(where: { !(200..<300).contains($0) && $0 != 409 && isRetryable($0) }) {
            return .retry(retryable)
        }
        let refused = statuses.indices.filter { !(200..<300).contains(statuses[$0]) && statuses[$0] != 409 }
        return refused.isEmpty ? .allStored : .refused(refused)
    }

    private func connect() throws(SinkError) {
        let connection = try Connection.open(host: host, port: port, datagram: false, tls: secure ? tlsSettings : nil,
                                             timeoutSeconds: 10, describing: url)
        descriptor = connection.descriptor
        tls = connection.tls
    }


    private func transmit(_ bytes: [UInt8]) throws(SinkError) {
        try Connection(descriptor: descriptor, tls: tls).send(bytes[...], describing: url)
    }


    private func receive(into buffer: inout [UInt8]) throws(SinkError) {
        var chunk = [UInt8](repeating: 0, count: 16384)
        let count: Int
        if let tls { count = try tls.read(&chunk) } else {
            count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress!, $0.count, 0) }
        }
        guard count > 0 else { throw SinkError("\(url): the server closed the connection without an answer") }
        buffer += chunk[..<count]
    }

    /// Status and body of one response (Content-Length or chunked).
    private func readResponse() throws(SinkError) -> (Int, [UInt8]) {
        var buffer: [UInt8] = []
        let separator = Array("\r\n\r\n".utf8)
        var headerEnd: Int?
        while headerEnd == nil {
            try receive(into: &buffer)
            headerEnd = buffer.firstRange(of: separator)?.upperBound
            if buffer.count > 1 << 20 { throw SinkError("\(url): the answer's headers are too long") }
        }
        let head = String(decoding: buffer[..<headerEnd!], as: UTF8.self).lowercased()
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var body = Array(buffer[headerEnd!...])
        if let length = head.split(separator: "\r\n").first(where: { $0.hasPrefix("content-length:") })
            .flatMap({ Int(String($0.dropFirst(15).filter { $0 != " " && $0 != "\t" })) }) {
            while body.count < length { try receive(into: &body) }
            return (status, Array(body.prefix(length)))
        }
        if head.contains("transfer-encoding: chunked") {
            while body.firstRange(of: Array("\r\n0\r\n\r\n".utf8)) == nil, !body.starts(with: Array("0\r\n\r\n".utf8)) {
                try receive(into: &body)
            }
            reset()  // The body is read for its text only; the next request starts clean.
            return (status, body)
        }
        reset()
        return (status, body)
    }
}
