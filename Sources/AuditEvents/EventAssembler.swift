import AuditRecords

/// Groups records that share a stamp into events, and decides when each is complete.
///
/// An event closes on EOE, on PROCTITLE (the last record of a syscall event), on a type
/// that stands alone, or — since auditd writes no EOE to files and kernels interleave
/// events — when newer records have moved past it by `maxEventAgeMilliseconds`, when
/// too many events are open, or when the input ends. Records that arrive after their
/// event closed are emitted as a late event and counted; nothing is dropped.
public struct EventAssembler: Sendable {
    public let policy: AssemblyPolicy
    public private(set) var counters = AssemblyCounters()
    public private(set) var sequence = SequenceTracker()

    private struct OpenEvent {
        var key: EventKey
        var records: [AuditRecord]
        var isLate: Bool
        /// The newest record time when the event opened: age counts from here, not from
        /// the event's own stamp, which is the syscall's entry time and may be long past.
        var openedAt: UInt64
        /// Quiet time since the event's latest record, from the first
        /// `closeExpired(nowMilliseconds:)` after it: the live timer ages an event from when
        /// it was last heard of. Records read from a backlog were stamped long before they
        /// are read, and the rest of their event is still waiting in the socket; aged by
        /// its stamp, such an event was closed between two reads and split in two.
        var quiet = FirstSeenTimer<UInt64>()
    }

    /// Records an event has room for when it opens: a whole exec event (SYSCALL, EXECVE,
    /// CWD, PATHs, PROCTITLE) without growing the array record by record.
    static let recordsReserved = 8

    /// Open events, in the order they opened.
    private var open: [OpenEvent] = []
    /// Records arrays of emitted events that nothing kept, emptied: the next events'
    /// (an array per event was an allocation and a free).
    private var spareRecordArrays: [[AuditRecord]] = []
    private static let spareRecordArraysKept = 8
    /// Keys of recently closed events, to recognise their EOE and late records.
    private var closed: RecentlyClosedEvents
    /// The newest record time seen, which ages open events.
    private var newestMilliseconds: UInt64 = 0
    /// Set once the input separates its events itself (ausearch's `----`): its order of
    /// records is its own (PROCTITLE first), so only the separators close events.
    private var separatedInput = false

    public init(policy: AssemblyPolicy) {
        self.policy = policy
        closed = RecentlyClosedEvents(capacity: policy.closedEventMemory)
    }

    /// The number of events still open.
    public var eventsInFlight: Int { open.count }

    /// Adds one record; calls `emit` for every event this completes. An error `emit`
    /// throws ends the call and travels on; the event it was given is already closed.
    public mutating func add<E: Error>(_ record: AuditRecord, emit: (RecordGroup) throws(E) -> Void) throws(E) {
        let key = EventKey(record)
        let role = record.type.role
        if role == .endOfEvent {
            try endOfEvent(key, emit: emit)
            return
        }
        counters.records += 1
        let time = record.stamp.epochMilliseconds

        if let index = indexOfOpen(key) {
            open[index].records.append(record)
            open[index].quiet = FirstSeenTimer()
            if open[index].isLate { counters.lateRecords += 1 }
            if role == .lastOfSyscall, !separatedInput {
                try close(at: index, reason: .lastRecord, emit: emit)
            } else if open[index].records.count >= policy.maxRecordsPerEvent {
                counters.oversizeEvents += 1
                try close(at: index, reason: .recordLimit, emit: emit)
            }
            return
        }

        let wasClosed = closed.contains(key)
        if wasClosed {
            counters.lateRecords += 1
        } else if !record.type.isDaemonMessage {
            // auditd's own DAEMON_* records carry auditd's serials, not the kernel's.
            sequence.observe(record.stamp.serial)
        }

        if time > newestMilliseconds {
            newestMilliseconds = time
            try closeExpired(before: time, emit: emit)
        }

        if role == .standalone && !wasClosed {
            var records = newRecordArray()
            records.append(record)
            try emitGroup(RecordGroup(key: key, records: consume records, closeReason: .standalone), emit: emit)
            return
        }
        if open.count >= policy.maxEventsInFlight {
            counters.evicted += 1
            try close(at: 0, reason: .evicted, emit: emit)
        }
        var records = newRecordArray()
        records.append(record)
        open.append(OpenEvent(key: key, records: records, isLate: wasClosed, openedAt: max(time, newestMilliseconds)))
        if role == .lastOfSyscall && !wasClosed && !separatedInput { try close(at: open.count - 1, reason: .lastRecord, emit: emit) }
    }

    /// The end of the event `key` (an EOE record, which is no part of it): closes it when
    /// open; one that closed already (on its PROCTITLE) needs nothing, one never seen is
    /// counted. The live reader calls this with the stamp alone, without making a record.
    public mutating func endOfEvent<E: Error>(_ key: EventKey, emit: (RecordGroup) throws(E) -> Void) throws(E) {
        counters.records += 1
        if let index = indexOfOpen(key) {
            try close(at: index, reason: .endOfEvent, emit: emit)
        } else if !closed.contains(key) {
            counters.orphanEndOfEvent += 1
        }
    }

    /// An event separator in the input (ausearch's `----`): every open event is complete,
    /// and from now on only separators, EOE and the bounds close events.
    public mutating func separator<E: Error>(emit: (RecordGroup) throws(E) -> Void) throws(E) {
        separatedInput = true
        while !open.isEmpty { try close(at: 0, reason: .separator, emit: emit) }
    }

    /// Closes events that received no record for `maxEventAgeMilliseconds` of the
    /// caller's clock, counted from the first call after their latest record; the live
    /// collector calls this on a timer (the wall clock) so that an event whose last record
    /// never comes is still emitted, however long ago its records were stamped.
    public mutating func closeExpired<E: Error>(nowMilliseconds: UInt64, emit: (RecordGroup) throws(E) -> Void) throws(E) {
        var index = 0
        while index < open.count {
            guard open[index].quiet.hasExceeded(policy.maxEventAgeMilliseconds, now: nowMilliseconds) else {
                index += 1
                continue
            }
            counters.expired += 1
            try close(at: index, reason: .expired, emit: emit)
        }
    }

    /// Closes every open event, oldest first (end of input, shutdown).
    public mutating func flush<E: Error>(emit: (RecordGroup) throws(E) -> Void) throws(E) {
        while !open.isEmpty { try close(at: 0, reason: .flushed, emit: emit) }
    }

    private mutating func closeExpired<E: Error>(before time: UInt64, emit: (RecordGroup) throws(E) -> Void) throws(E) {
        guard time > policy.maxEventAgeMilliseconds else { return }
        let limit = time - policy.maxEventAgeMilliseconds
        while let oldest = open.first, oldest.openedAt < limit {
            counters.expired += 1
            try close(at: 0, reason: .expired, emit: emit)
        }
    }

    private func indexOfOpen(_ key: EventKey) -> Int? {
        var index = open.count - 1
        while index >= 0 {
            if open[index].key == key { return index }
            index -= 1
        }
        return nil
    }

    private mutating func close<E: Error>(at index: Int, reason: CloseReason, emit: (RecordGroup) throws(E) -> Void) throws(E) {
        var event = open.remove(at: index)
        // The group takes the records out of the open event (moved, not copied), so that
        // once the group is rendered nothing else holds the array and it can serve again.
        var records: [AuditRecord] = []
        swap(&records, &event.records)
        // The rest of an event split at the record limit is its continuation, not late.
        let group = RecordGroup(key: event.key, records: consume records, closeReason: event.isLate ? .late : reason)
        try emitGroup(consume group, remember: reason != .recordLimit, emit: emit)
    }

    private mutating func emitGroup<E: Error>(_ group: consuming RecordGroup, remember: Bool = true, emit: (RecordGroup) throws(E) -> Void) throws(E) {
        if remember { self.remember(group.key) }
        counters.events += 1
        try emit(group)
        // Rendered and let go, the group's records are freed here and its array serves
        // again. (Handed to another thread in a batch, it is still shared: emptying it
        // then makes a new array, the allocation the next event would have made.)
        if spareRecordArrays.count < Self.spareRecordArraysKept {
            group.records.removeAll(keepingCapacity: true)
            spareRecordArrays.append(group.records)
        }
    }

    /// An empty records array with room for a whole exec event: a spare one when there is.
    private mutating func newRecordArray() -> [AuditRecord] {
        if let spare = spareRecordArrays.popLast() { return spare }
        var records: [AuditRecord] = []
        records.reserveCapacity(Self.recordsReserved)
        return records
    }

    private mutating func remember(_ key: EventKey) {
        closed.insert(key)
    }
}
