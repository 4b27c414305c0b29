/// What the assembler did, for the statistics line and metrics: nothing is discarded
/// without being counted here.
public struct AssemblyCounters: Sendable, Equatable {
    public var records: UInt64 = 0
    public var events: UInt64 = 0
    /// Events closed because too many were open.
    public var evicted: UInt64 = 0
    /// Events closed because newer records (or the clock) passed them.
    public var expired: UInt64 = 0
    /// Records that arrived after their event was emitted; emitted as a separate event.
    public var lateRecords: UInt64 = 0
    /// EOE records for events not seen at all.
    public var orphanEndOfEvent: UInt64 = 0
    /// Events split because they exceeded the record limit.
    public var oversizeEvents: UInt64 = 0

    public init() {}
}
