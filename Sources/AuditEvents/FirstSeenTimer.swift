/// How long something has waited by the caller's clock, counted from the first time the
/// caller looked rather than from its stamp: read behind the kernel's stream, records and
/// exec sessions arrive stamped long before, and what belongs with them may still be on
/// its way. A clock set back starts the count again. Used for an open event's quiet time
/// (`EventAssembler`) and a session's wait for its Kubernetes request.
public struct FirstSeenTimer<Milliseconds: FixedWidthInteger & Sendable>: Sendable {
    private var since: Milliseconds?

    public init() {}

    /// Whether more than `limit` has passed since the first call; that call, and the first
    /// one after the clock went back, start the count and answer false.
    public mutating func hasExceeded(_ limit: Milliseconds, now: Milliseconds) -> Bool {
        guard let since, now >= since else {
            self.since = now
            return false
        }
        return now - since > limit
    }
}
