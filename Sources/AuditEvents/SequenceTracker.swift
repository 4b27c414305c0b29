/// Counts kernel events that never arrived, from gaps in the serial numbers.
///
/// The kernel numbers events consecutively; a serial that is skipped is an event that
/// was lost (backlog overflow, rate limit, a reader too slow). Serials may arrive a
/// little out of order, so a gap is forgiven when its serial shows up later; a large
/// step backwards is a restart of the numbering (reboot, or another writer's serials).
public struct SequenceTracker: Sendable {
    /// Serials seen missing and not (yet) arrived.
    public private(set) var missing: UInt64 = 0
    /// Times the numbering restarted.
    public private(set) var resets: UInt64 = 0
    public private(set) var highest: UInt64?

    /// Missing serials remembered individually, to forgive late arrivals.
    private var recentlyMissing: Set<UInt64> = []
    private let memory: Int
    private let resetDistance: UInt64

    public init(memory: Int = 4096, resetDistance: UInt64 = 100_000) {
        self.memory = memory
        self.resetDistance = resetDistance
    }

    /// Notes the serial of a newly opened event.
    public mutating func observe(_ serial: UInt64) {
        guard let top = highest else {
            highest = serial
            return
        }
        if serial > top {
            let skipped = serial - top - 1
            if skipped > resetDistance {
                resets += 1
                recentlyMissing.removeAll()
            } else if skipped > 0 {
                missing += skipped
                if recentlyMissing.count + Int(skipped) <= memory {
                    for s in (top + 1)..<serial { recentlyMissing.insert(s) }
                }
            }
            highest = serial
        } else if recentlyMissing.remove(serial) != nil {
            missing -= 1
        } else if top - serial > resetDistance {
            resets += 1
            recentlyMissing.removeAll()
            highest = serial
        }
    }
}
