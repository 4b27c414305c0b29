/// The identity the kernel gives every record: `audit(SECONDS.MILLIS:SERIAL)`.
///
/// All records of one kernel event share a stamp, which is how they are correlated.
public struct AuditStamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Seconds since the Unix epoch.
    public var seconds: UInt64
    /// Milliseconds within the second (0...999).
    public var milliseconds: UInt16
    /// The kernel's event serial number; restarts at boot.
    public var serial: UInt64

    public init(seconds: UInt64, milliseconds: UInt16, serial: UInt64) {
        self.seconds = seconds
        self.milliseconds = milliseconds
        self.serial = serial
    }

    /// Milliseconds since the Unix epoch.
    public var epochMilliseconds: UInt64 { seconds &* 1000 &+ UInt64(milliseconds) }

    public static func < (a: AuditStamp, b: AuditStamp) -> Bool {
        (a.seconds, a.milliseconds, a.serial) < (b.seconds, b.milliseconds, b.serial)
    }

    /// `SECONDS.MILLIS:SERIAL`, as the kernel writes it.
    public var description: String {
        let ms = String(milliseconds)
        return "\(seconds).\(String(repeating: "0", count: 3 - ms.count))\(ms):\(serial)"
    }
}
