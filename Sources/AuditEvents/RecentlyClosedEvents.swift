import AuditRecords

/// The keys of the last events closed, to recognise their EOE and late records.
///
/// A ring of keys with an open-addressing index (linear probing, backward-shift deletion)
/// hashed on the serial: a `Set<EventKey>` hashed a whole key with SipHash for every
/// insert, removal and lookup, several times per event (perf: 3 % of offline parsing).
struct RecentlyClosedEvents {
    /// The remembered keys, oldest overwritten first.
    private var ring: [EventKey?]
    /// The stamps of `ring`, compared and hashed without copying a key (its node is
    /// reference-counted): the node is read only when the stamps are equal.
    private var stamps: [AuditStamp]
    private var cursor = 0
    /// Positions in `ring`, by hash; -1 is an empty slot.
    private var slots: [Int32]
    private let mask: Int
    /// The highest serial ever remembered: a key above it is not here, which answers the
    /// usual question (the first record of a new event) without touching the tables,
    /// whose lines a busy node has mostly evicted by then (perf: a cache miss per event).
    private var highestSerial: UInt64 = 0

    init(capacity: Int) {
        ring = Array(repeating: nil, count: max(1, capacity))
        stamps = Array(repeating: AuditStamp(seconds: 0, milliseconds: 0, serial: 0), count: ring.count)
        var size = 16
        while size < ring.count * 2 { size *= 2 }
        slots = Array(repeating: -1, count: size)
        mask = size - 1
    }

    private func home(_ stamp: AuditStamp) -> Int {
        Int(truncatingIfNeeded: ((stamp.serial ^ stamp.seconds &* 31) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
    }

    /// The slot holding `key`, or nil.
    private func slot(of key: EventKey) -> Int? {
        var index = home(key.stamp)
        while slots[index] >= 0 {
            let position = Int(slots[index])
            if stamps[position] == key.stamp, ring[position]?.node == key.node { return index }
            index = (index + 1) & mask
        }
        return nil
    }

    func contains(_ key: EventKey) -> Bool { key.stamp.serial <= highestSerial && slot(of: key) != nil }

    /// The slot that points at `position` of the ring.
    private func slot(at position: Int) -> Int? {
        var index = home(stamps[position])
        while slots[index] >= 0 {
            if Int(slots[index]) == position { return index }
            index = (index + 1) & mask
        }
        return nil
    }

    /// Remembers `key`, forgetting the oldest key when full.
    mutating func insert(_ key: EventKey) {
        guard !contains(key) else { return }
        highestSerial = max(highestSerial, key.stamp.serial)
        if ring[cursor] != nil, let oldSlot = slot(at: cursor) { removeSlot(oldSlot) }
        ring[cursor] = key
        stamps[cursor] = key.stamp
        var index = home(key.stamp)
        while slots[index] >= 0 { index = (index + 1) & mask }
        slots[index] = Int32(cursor)
        cursor = (cursor + 1) % ring.count
    }

    /// Empties `index`, moving later entries of its probe run back so none is cut off.
    private mutating func removeSlot(_ index: Int) {
        var hole = index
        var next = (hole + 1) & mask
        while slots[next] >= 0 {
            let wanted = home(stamps[Int(slots[next])])
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
