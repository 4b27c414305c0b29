/// The bounds of event assembly: how long and how many events may stay open.
///
/// Real kernels interleave events, lose EOE records, and some rule sets exclude EOE;
/// these bounds make sure every event is emitted anyway and memory stays bounded.
public struct AssemblyPolicy: Sendable {
    /// Open events beyond this close oldest first.
    public var maxEventsInFlight: Int
    /// An event is closed once a record stamped this much later arrives (or, live, once
    /// the clock passes it).
    public var maxEventAgeMilliseconds: UInt64
    /// An event with more records than this is closed, and later ones start a new event.
    public var maxRecordsPerEvent: Int
    /// How many closed events are remembered, to recognise their late records and EOEs.
    public var closedEventMemory: Int

    /// `maxEventAgeMilliseconds` has no default here: `events.event_timeout_seconds` in
    /// the settings table is its one default.
    public init(
        maxEventsInFlight: Int = 256,
        maxEventAgeMilliseconds: UInt64,
        maxRecordsPerEvent: Int = 4096,
        closedEventMemory: Int = 1024
    ) {
        self.maxEventsInFlight = max(1, maxEventsInFlight)
        self.maxEventAgeMilliseconds = maxEventAgeMilliseconds
        self.maxRecordsPerEvent = max(1, maxRecordsPerEvent)
        self.closedEventMemory = max(1, closedEventMemory)
    }
}
