import AuditRecords

/// What makes records belong to one event: the kernel stamp, and the node that wrote
/// them (aggregated logs can hold the same stamp from two machines).
public struct EventKey: Hashable, Sendable {
    public var stamp: AuditStamp
    public var node: Bytes?

    public init(stamp: AuditStamp, node: Bytes?) {
        self.stamp = stamp
        self.node = node
    }

    public init(_ record: AuditRecord) {
        self.init(stamp: record.stamp, node: record.node)
    }
}
