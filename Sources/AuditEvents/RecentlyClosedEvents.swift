/// The keys of the last events closed, to recognise their EOE and late records.
///
/// A ring of keys with an open-addressing index (linear probing, backward-shift deletion)
/// hashed on the serial: a `Set<EventKey>` hashed a whole key with SipHash for every
/// insert, removal and lookup, several times per event (perf: 3 % of offline parsing).
struct RecentlyClosedEvents {
    /// The remembered keys, oldest overwritten first.
    private var ring: [EventKey?]
    private var cursor = 0
    /// Positions in `ring`, by hash; -1 is an empty slot.
    private var slots: [Int32]
    private let mask: Int

    init(capacity: Int) {
        ring = Array(repeating: nil, count: max(1, capacity))
        var size = 16
        while size < ring.count * 2 { size *= 2 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    private func home(_ key: EventKey) -> Int {
        Int(truncatingIfNeeded: ((key.stamp.serial ^ key.stamp.seconds &* 31) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The slot holding `key`, or nil.
    private func slot(of key: EventKey) -> Int? {
        var index = home(key)
        while slots[index] >= 0 {
            if ring[Int(slots[index])] == key { return index }
            index = (index + 1) & mask
        }
        return nil
    }

    func contains(_ key: EventKey) -> Bool { slot(of: key) != nil }

    /// Remembers `key`, forgetting the oldest key when full.
    mutating func insert(_ key: EventKey) {
        guard slot(of: key) == nil else { return }
        if let oldest = ring[cursor], let oldSlot = slot(of: oldest) { removeSlot(oldSlot) }
        ring[cursor] = key
        var index = home(key)
        while slots[index] >= 0 { index = (index + 1) & mask }
        slots[index] = Int32(cursor)
        cursor = (cursor + 1) % ring.count
    }

    /// Empties `index`, moving later entries of its probe run back so none is cut off.
    private mutating func removeSlot(_ index: Int) {
        var hole = index
        var next = (hole + 1) & mask
        while slots[next] >= 0 {
            let wanted = home(ring[Int(slots[next])]!)
            // The entry may move into the hole if its home is not within (hole, next].
            let distanceToHole = (next - hole) & mask
            let distanceToHome = (next - wanted) & mask
            if distanceToHome >= distanceToHole {
                slots[hole] = slots[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        slots[hole] = -1
    }
}
