@testable import Output
import Testing

@Suite("Times written in a row")
struct RecentTimestampTests {
    @Test("a writer's times, in the same second or not, in order or not, read as each formatted alone")
    func sequence() {
        // Runs within a second, the next second, a step back, a day, a year and a century
        // boundary, the epoch, and milliseconds out of range (taken modulo 1,000).
        let times: [(UInt64, UInt16)] = [
            (1_795_561_246, 275), (1_795_561_246, 0), (1_795_561_246, 999), (1_795_561_247, 1), (1_795_561_246, 500),
            (1_795_564_799, 999), (1_795_564_800, 0), (1_798_761_599, 998), (1_798_761_600, 2), (4_102_444_799, 999),
            (4_102_444_800, 0), (0, 0), (0, 0), (0, 1), (1_795_561_246, 1_275), (951_782_400, 7),
        ]
        var recent = RecentTimestamp()
        for (seconds, milliseconds) in times {
            let text = recent.withRFC3339(seconds: seconds, milliseconds: milliseconds) { Array($0) }
            #expect(text == Timestamp.rfc3339(seconds: seconds, milliseconds: milliseconds), "\(seconds).\(milliseconds)")
        }
    }
}
