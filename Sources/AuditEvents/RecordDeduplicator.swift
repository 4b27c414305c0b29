/// Drops the second copy of a record read twice. During a hand-over between two
/// nodeaudit runs (a rolling update), the new run reads the kernel's multicast copy of the
/// stream while the old one is still the audit daemon, and both copies once it has taken
/// the daemon's place; for a moment the same record arrives on both sockets. A record is
/// known by its type and its bytes, which carry its stamp and serial.
///
/// Memory is bounded: past `capacity` records the oldest half is forgotten, so a copy
/// that arrives very late is written twice (with the same event id) rather than held
/// without limit.
public struct RecordDeduplicator: Sendable {
    private var seen: Set<Int> = []
    private var older: Set<Int> = []
    private let capacity: Int
    public private(set) var duplicates: UInt64 = 0

    public init(capacity: Int = 200_000) {
        self.capacity = capacity
    }

    /// True the first time a record is offered, false for its copy.
    public mutating func isNew(type: UInt16, payload: UnsafeRawBufferPointer) -> Bool {
        var hasher = Hasher()
        hasher.combine(type)
        hasher.combine(bytes: payload)
        let identity = hasher.finalize()
        if seen.contains(identity) || older.contains(identity) {
            duplicates += 1
            return false
        }
        if seen.count >= capacity / 2 {
            older = seen
            seen.removeAll(keepingCapacity: true)
        }
        seen.insert(identity)
        return true
    }
}
