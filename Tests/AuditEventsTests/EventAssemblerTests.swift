import AuditEvents
import AuditRecords
import Testing
import TestSupport

@Suite("Event assembly")
struct EventAssemblerTests {
    /// The records of one fixture event, in the order the kernel wrote them.
    private func records(_ serial: UInt64) throws -> [AuditRecord] {
        try Fixtures.event(serial: serial).map(Fixtures.record)
    }

    /// The kernel's EOE for a stamp, as it arrives over netlink (empty body).
    private func endOfEvent(_ stamp: AuditStamp) throws -> AuditRecord {
        let payload = Array("audit(\(stamp)): ".utf8)
        return try payload.withUnsafeBytes { try RecordParser.parseNetlink(type: 1320, payload: $0) }
    }

    private func run(_ records: [AuditRecord], policy: AssemblyPolicy = AssemblyPolicy(maxEventAgeMilliseconds: 2000), flush: Bool = true)
        -> (groups: [RecordGroup], assembler: EventAssembler)
    {
        var assembler = EventAssembler(policy: policy)
        var groups: [RecordGroup] = []
        for record in records { assembler.add(record) { groups.append($0) } }
        if flush { assembler.flush { groups.append($0) } }
        return (groups, assembler)
    }

    @Test("EOE closes an event and is not part of it")
    func closesOnEndOfEvent() throws {
        let event = try records(11).filter { $0.type != .proctitle }
        let (groups, assembler) = run(event + [try endOfEvent(event[0].stamp)], flush: false)
        #expect(groups.count == 1)
        #expect(groups[0].closeReason == .endOfEvent)
        #expect(groups[0].records.map(\.type) == [.syscall, .sockaddr])
        #expect(assembler.eventsInFlight == 0)
    }

    @Test("PROCTITLE closes a syscall event at once; its EOE afterwards is expected, not late")
    func closesOnProctitle() throws {
        let event = try records(11)
        let (groups, assembler) = run(event + [try endOfEvent(event[0].stamp)], flush: false)
        #expect(groups.count == 1)
        #expect(groups[0].closeReason == .lastRecord)
        #expect(groups[0].records.count == 3)
        #expect(assembler.counters.lateRecords == 0)
        #expect(assembler.counters.orphanEndOfEvent == 0)
    }

    @Test("a user-space message stands alone")
    func standalone() throws {
        let lines = try Fixtures.lines(ofFile: Fixtures.corpusFile("exec-net-login.raw.log"))
        let auth = try Fixtures.record(try #require(lines.first { $0.hasPrefix("type=USER_AUTH") }))
        let (groups, _) = run([auth], flush: false)
        #expect(groups.count == 1)
        #expect(groups[0].closeReason == .standalone)
    }

    @Test("interleaved events are each assembled whole")
    func interleaved() throws {
        let a = try records(12)  // SYSCALL, SOCKADDR, PROCTITLE
        let b = try records(13)  // SYSCALL, SOCKADDR, CWD, PATH, PROCTITLE
        let mixed = [a[0], b[0], a[1], b[1], b[2], b[3], a[2], b[4]]
        let (groups, assembler) = run(mixed)
        #expect(groups.count == 2)
        #expect(groups.map(\.key.stamp.serial) == [12, 13])
        #expect(groups[0].records.count == 3)
        #expect(groups[1].records.count == 5)
        #expect(groups.allSatisfy { $0.closeReason == .lastRecord })
        #expect(assembler.counters.events == 2)
    }

    @Test("an event whose last record never comes is closed once newer records pass it")
    func expiresByRecordTime() throws {
        let incomplete = try records(5).filter { $0.type != .proctitle }  // at .809
        let later = try records(11)  // a second later
        let (groups, assembler) = run(incomplete + later, policy: AssemblyPolicy(maxEventAgeMilliseconds: 500), flush: false)
        #expect(groups.map(\.key.stamp.serial) == [5, 11])
        #expect(groups[0].closeReason == .expired)
        #expect(assembler.counters.expired == 1)
    }

    @Test("the live timer closes an event whose records stopped")
    func expiresByClock() throws {
        let incomplete = try records(11).filter { $0.type != .proctitle }
        var assembler = EventAssembler(policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000))
        var groups: [RecordGroup] = []
        for record in incomplete { assembler.add(record) { groups.append($0) } }
        let stamp = incomplete[0].stamp.epochMilliseconds
        assembler.closeExpired(nowMilliseconds: stamp + 1000) { groups.append($0) }
        #expect(groups.isEmpty)
        assembler.closeExpired(nowMilliseconds: stamp + 2500) { groups.append($0) }
        #expect(groups.isEmpty, "quiet for 1.5 s only: the first tick after its last record starts the count")
        // The clock set back an hour: the count starts again, it does not wait for the hour.
        assembler.closeExpired(nowMilliseconds: stamp + 1000 - 3_600_000) { groups.append($0) }
        assembler.closeExpired(nowMilliseconds: stamp + 2000 - 3_600_000) { groups.append($0) }
        #expect(groups.isEmpty)
        assembler.closeExpired(nowMilliseconds: stamp + 3500 - 3_600_000) { groups.append($0) }
        #expect(groups.count == 1)
        #expect(groups[0].closeReason == .expired)
    }

    @Test("read late (a backlog a minute old), an event is not closed by the timer while the rest of its records still come")
    func lateReadEventStaysWhole() throws {
        let event = try records(5)
        var assembler = EventAssembler(policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000))
        var groups: [RecordGroup] = []
        let now = event[0].stamp.epochMilliseconds + 60_000
        // Each read brings one record; the timer ticks between reads, and between them
        // the reader may have been held up for longer than the timeout.
        for (offset, record) in event.enumerated() {
            assembler.add(record) { groups.append($0) }
            assembler.closeExpired(nowMilliseconds: now + UInt64(offset) * 3000) { groups.append($0) }
        }
        #expect(groups.count == 1 && groups.first?.records.count == event.count, "\(groups.map { $0.records.map(\.type) })")
        #expect(groups.first?.closeReason == .lastRecord && assembler.counters.lateRecords == 0)
    }

    @Test("beyond the in-flight bound the oldest event is closed, and counted")
    func evictsOldest() throws {
        let heads = try [11, 12, 13].map { try records($0)[0] }
        let (groups, assembler) = run(heads, policy: AssemblyPolicy(maxEventsInFlight: 2, maxEventAgeMilliseconds: 2000), flush: false)
        #expect(groups.map(\.key.stamp.serial) == [11])
        #expect(groups[0].closeReason == .evicted)
        #expect(assembler.counters.evicted == 1)
        #expect(assembler.eventsInFlight == 2)
    }

    @Test("a record after its event was emitted becomes a late event, counted, not lost")
    func lateRecord() throws {
        let event = try records(11)
        let (groups, assembler) = run(event + [event[1]])
        #expect(groups.count == 2)
        #expect(groups[1].closeReason == .late)
        #expect(groups[1].records.map(\.type) == [.sockaddr])
        #expect(assembler.counters.lateRecords == 1)
    }

    @Test("events closed out of serial order: a late record of the lower serial is still recognised, an EOE after both is expected")
    func lateRecordBelowANewerClosedEvent() throws {
        let older = try records(11), newer = try records(12)
        // 12 closes (its PROCTITLE) while 11 is still open; 11 closes after it; then a late
        // SOCKADDR of 11 and the EOEs of both.
        let input = [older[0], newer[0], newer[1], newer[2], older[1], older[2], older[1],
                     try endOfEvent(older[0].stamp), try endOfEvent(newer[0].stamp)]
        let (groups, assembler) = run(input, flush: false)
        #expect(groups.map(\.key.stamp.serial) == [12, 11, 11])
        #expect(groups[2].closeReason == .late)
        #expect(assembler.counters.lateRecords == 1)
        #expect(assembler.counters.orphanEndOfEvent == 0)
        // A record of a serial above every closed one opens an event of its own.
        let (later, laterAssembler) = run(input + [try records(13)[0]], flush: true)
        #expect(later.last?.key.stamp.serial == 13)
        #expect(later.last?.closeReason == .flushed)
        #expect(laterAssembler.counters.lateRecords == 1)
    }

    @Test("closed events are remembered up to the configured number: EOE after them is expected, beyond it orphaned")
    func closedEventMemory() throws {
        // 5000 single-record events through a memory of 100. After each, EOEs for events
        // still remembered must be recognised (every eviction reorders the index), and
        // at the end EOEs for forgotten events are orphans.
        let memory = 100
        var assembler = EventAssembler(policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000, closedEventMemory: memory))
        let stamps = (0..<5000).map {
            AuditStamp(seconds: 1_700_000_000 + UInt64($0 / 7), milliseconds: UInt16($0 % 1000), serial: UInt64($0) * 4099)
        }
        for (index, stamp) in stamps.enumerated() {
            let payload = Array("audit(\(stamp)): proctitle=\"x\"".utf8)
            assembler.add(try payload.withUnsafeBytes { try RecordParser.parseNetlink(type: 1327, payload: $0) }) { _ in }
            for back in [0, 1, 13, 57, memory - 1] where index >= back {
                assembler.add(try endOfEvent(stamps[index - back])) { _ in }
            }
        }
        #expect(assembler.counters.orphanEndOfEvent == 0)
        for stamp in stamps.prefix(50) + stamps.dropLast(memory).suffix(50) { assembler.add(try endOfEvent(stamp)) { _ in } }
        #expect(assembler.counters.orphanEndOfEvent == 100)
    }

    @Test("the live reader's EOE, its stamp alone, closes an open event, is expected after PROCTITLE, and is counted when orphaned")
    func endOfEventFromStamp() throws {
        let open = try records(11).filter { $0.type != .proctitle }
        let closedByTitle = try records(11)
        let cases: [(records: [AuditRecord], stamp: AuditStamp, reasons: [CloseReason], orphans: UInt64)] = [
            (open, open[0].stamp, [.endOfEvent], 0),
            (closedByTitle, closedByTitle[0].stamp, [.lastRecord], 0),
            ([], AuditStamp(seconds: 1, milliseconds: 2, serial: 3), [], 1),
        ]
        for test in cases {
            var assembler = EventAssembler(policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000))
            var groups: [RecordGroup] = []
            for record in test.records { assembler.add(record) { groups.append($0) } }
            let payload = Array("audit(\(test.stamp)): ".utf8)
            let stamp = try payload.withUnsafeBytes { try RecordParser.parseEndOfEvent(payload: $0) }
            #expect(stamp == test.stamp)
            assembler.endOfEvent(EventKey(stamp: stamp, node: nil)) { groups.append($0) }
            #expect(groups.map(\.closeReason) == test.reasons)
            #expect(groups.flatMap(\.records).count == test.records.count)
            #expect(assembler.counters.orphanEndOfEvent == test.orphans)
            #expect(assembler.counters.lateRecords == 0)
            #expect(assembler.counters.records == UInt64(test.records.count) + 1)
            #expect(assembler.eventsInFlight == 0)
        }
    }

    @Test("an EOE for an event never seen is counted")
    func orphanEndOfEvent() throws {
        let (groups, assembler) = run([try endOfEvent(AuditStamp(seconds: 1, milliseconds: 2, serial: 3))])
        #expect(groups.isEmpty)
        #expect(assembler.counters.orphanEndOfEvent == 1)
    }

    @Test("an event over the record limit is split, and counted")
    func recordLimit() throws {
        let event = try records(6)
        let (groups, assembler) = run(event, policy: AssemblyPolicy(maxEventAgeMilliseconds: 2000, maxRecordsPerEvent: 8))
        #expect(event.count > 8)
        #expect(groups.count == 2)
        #expect(groups[0].closeReason == .recordLimit)
        #expect(groups[0].records.count == 8)
        #expect(groups[1].closeReason == .lastRecord)
        #expect(assembler.counters.lateRecords == 0)
        #expect(groups.reduce(0) { $0 + $1.records.count } == event.count)
        #expect(assembler.counters.oversizeEvents == 1)
    }

    @Test("flush emits every open event in order")
    func flush() throws {
        let heads = try [11, 12].map { try records($0)[0] }
        let (groups, _) = run(heads)
        #expect(groups.map(\.key.stamp.serial) == [11, 12])
        #expect(groups.allSatisfy { $0.closeReason == .flushed })
    }

    @Test("records of two nodes with one stamp are two events")
    func nodesAreSeparate() throws {
        let line = try Fixtures.line("type=SYSCALL", ":11):")
        let a = try Fixtures.record("node=a " + line)
        let b = try Fixtures.record("node=b " + line)
        let (groups, _) = run([a, b])
        #expect(groups.count == 2)
    }
}

@Suite("Sequence tracking")
struct SequenceTrackerTests {
    @Test("skipped serials count as missing until they arrive")
    func gaps() {
        var tracker = SequenceTracker()
        for serial: UInt64 in [100, 101, 105] { tracker.observe(serial) }
        #expect(tracker.missing == 3)
        tracker.observe(103)
        #expect(tracker.missing == 2)
        tracker.observe(103)
        #expect(tracker.missing == 2)
        tracker.observe(106)
        #expect(tracker.missing == 2)
    }

    @Test("a restart of the numbering is a reset, not a gap")
    func reset() {
        var tracker = SequenceTracker(resetDistance: 1000)
        tracker.observe(90_000)
        tracker.observe(5)
        tracker.observe(6)
        #expect(tracker.missing == 0)
        #expect(tracker.resets == 1)
        #expect(tracker.highest == 6)
    }
}
