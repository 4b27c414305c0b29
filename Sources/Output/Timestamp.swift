/// RFC 3339 UTC timestamps with millisecond precision, computed without Foundation
/// (the encoder formats one per event).
public enum Timestamp {
    /// `2026-11-25T10:20:46.275Z` for a time in seconds and milliseconds since the epoch.
    public static func rfc3339(seconds: UInt64, milliseconds: UInt16) -> [UInt8] {
        withRFC3339(seconds: seconds, milliseconds: milliseconds) { Array($0) }
    }

    /// Formats the timestamp on the stack and hands its bytes to `body` (the encoders
    /// write one per event; no allocation).
    public static func withRFC3339<R>(
        seconds: UInt64, milliseconds: UInt16, _ body: (UnsafeBufferPointer<UInt8>) -> R
    ) -> R {
        let days = Int64(seconds / 86_400)
        let secondOfDay = Int(seconds % 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        var text: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: `YYYY-MM-DDTHH:MM:SS.mmmZ`
        return withUnsafeMutableBytes(of: &text) { raw in
            let out = raw.bindMemory(to: UInt8.self)
            var length = 0
            func put(_ byte: UInt8) {
                out[length] = byte
                length += 1
            }
            func digits(_ value: Int, _ width: Int) {
                var divisor = 1
                for _ in 1..<width { divisor *= 10 }
                var v = value
                while divisor > 0 {
                    put(UInt8(ascii: "0") &+ UInt8((v / divisor) % 10))
                    v %= divisor
                    divisor /= 10
                }
            }
            digits(Int(year % 10_000), 4)
            put(UInt8(ascii: "-"))
            digits(month, 2)
            put(UInt8(ascii: "-"))
            digits(day, 2)
            put(UInt8(ascii: "T"))
            digits(secondOfDay / 3600, 2)
            put(UInt8(ascii: ":"))
            digits(secondOfDay / 60 % 60, 2)
            put(UInt8(ascii: ":"))
            digits(secondOfDay % 60, 2)
            put(UInt8(ascii: "."))
            digits(Int(milliseconds % 1000), 3)
            put(UInt8(ascii: "Z"))
            return body(UnsafeBufferPointer(rebasing: out[0..<length]))
        }
    }

    /// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

/// The RFC 3339 text of the last second a writer wrote a time in: consecutive events
/// mostly share their second, so only the milliseconds are written again (formatting the
/// date took some 200 instructions an event).
struct RecentTimestamp {
    private var seconds: UInt64?
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, 24 bytes, the milliseconds at 20 to 22.
    private var text: (UInt64, UInt64, UInt64) = (0, 0, 0)
    private static let length = 24

    /// Hands `body` the text of the time, as `Timestamp.withRFC3339` does.
    mutating func withRFC3339<R>(seconds: UInt64, milliseconds: UInt16, _ body: (UnsafeBufferPointer<UInt8>) -> R) -> R {
        if seconds != self.seconds {
            let remembered = Timestamp.withRFC3339(seconds: seconds, milliseconds: 0) { formatted in
                formatted.count == Self.length
                    ? withUnsafeMutableBytes(of: &text) { $0.copyMemory(from: UnsafeRawBufferPointer(formatted)); return true }
                    : false
            }
            guard remembered else {
                self.seconds = nil
                return Timestamp.withRFC3339(seconds: seconds, milliseconds: milliseconds, body)
            }
            self.seconds = seconds
        }
        let millis = Int(milliseconds % 1000)
        return withUnsafeMutableBytes(of: &text) { raw in
            raw[20] = UInt8(ascii: "0") &+ UInt8(millis / 100)
            raw[21] = UInt8(ascii: "0") &+ UInt8(millis / 10 % 10)
            raw[22] = UInt8(ascii: "0") &+ UInt8(millis % 10)
            return body(UnsafeBufferPointer(rebasing: raw.bindMemory(to: UInt8.self)[..<Self.length]))
        }
    }
}
