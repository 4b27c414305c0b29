import AuditRecords

/// The records of one kernel event, as the assembler closed it: the input of
/// interpretation.
public struct RecordGroup: Sendable {
    public var key: EventKey
    public var records: [AuditRecord]
    public var closeReason: CloseReason

    public init(key: EventKey, records: [AuditRecord], closeReason: CloseReason) {
        self.key = key
        self.records = records
        self.closeReason = closeReason
    }
}

/// Why the assembler decided an event was complete.
public enum CloseReason: String, Sendable {
    /// The kernel's EOE record arrived.
    case endOfEvent = "eoe"
    /// PROCTITLE, the last record of a syscall event, arrived.
    case lastRecord = "proctitle"
    /// A record type that always stands alone (PAM and user-space messages, daemon records).
    case standalone
    /// Too many events were open at once; the oldest was closed.
    case evicted
    /// Newer records moved past it in time (log files, where auditd writes no EOE).
    case expired
    /// The input ended or the collector is shutting down.
    case flushed
    /// The event reached the record limit; further records start a continuation.
    case recordLimit = "record_limit"
    /// The input's own event separator (ausearch's `----`).
    case separator
    /// Records that arrived after their event was already closed.
    case late
}
