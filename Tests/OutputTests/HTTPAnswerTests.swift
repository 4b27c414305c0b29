@testable import Output
import Testing

/// How nodeaudit reads a log store's answers: what to send again, and what no resend
/// can fix (to the dead-letter file).
@Suite("HTTP answers: retry or refuse")
struct HTTPAnswerTests {
    @Test("429, 408 and 5xx are retried; other 4xx are permanent", arguments: [
        (400, false), (401, false), (403, false), (404, false), (413, false), (408, true), (429, true), (500, true), (503, true),
    ])
    func statusClasses(status: Int, retryable: Bool) {
        #expect(HTTPTransport.isRetryable(status) == retryable)
    }

    @Test("_bulk items: all stored (201 and 409), one mapping error refused, one 429 retried, a count that does not match refused whole")
    func bulkItems() {
        func answer(_ statuses: [Int]) -> [UInt8] {
            let items = statuses.map { status in
                status == 400
                    ? #"{"create":{"_index":"n","_id":"x","status":400,"error":{"type":"mapper_parsing_exception","reason":"failed to parse [\"status\":1]"}}}"#
                    : #"{"create":{"_index":"n","_id":"x","status":\#(status)}}"#
            }
            return Array(#"{"took":3,"errors":true,"items":[\#(items.joined(separator: ","))]}"#.utf8)
        }
        #expect(HTTPTransport.bulkItems(Array(#"{"took":3,"errors":false,"items":[]}"#.utf8), count: 2) == .allStored)
        #expect(HTTPTransport.bulkItems(answer([201, 409, 201]), count: 3) == .allStored)
        // Python's json.dumps and pretty printers put blanks after colons.
        let spaced = Array(#"{"errors": true, "items": [{"create": {"status": 201}}, {"create": {"status" : 400, "error": {}}}]}"#.utf8)
        #expect(HTTPTransport.bulkItems(spaced, count: 2) == .refused([1]))
        #expect(HTTPTransport.bulkItems(answer([201, 400, 201, 400]), count: 4) == .refused([1, 3]))
        #expect(HTTPTransport.bulkItems(answer([201, 400, 429]), count: 3) == .retry(429))
        #expect(HTTPTransport.bulkItems(answer([201, 201]), count: 3) == .refused([0, 1, 2]))
    }
}
