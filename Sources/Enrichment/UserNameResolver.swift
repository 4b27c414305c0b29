import AuditEvents
import AuditRecords

/// Names the user and group ids of an event that the log left unnamed, from a
/// `UserDatabase`. Names already in the event (from an ENRICHED log) are kept.
public struct UserNameResolver: Sendable {
    public let database: UserDatabase
    private static let unsetName: Bytes = Array("unset".utf8)[...]

    public init(database: UserDatabase) {
        self.database = database
    }

    public func enrich(_ event: inout AuditEvent) {
        event.nameIdentities(name)
    }

    private func name(_ id: UInt32, isGroup: Bool) -> Bytes? {
        if id == Identity.unset { return Self.unsetName }
        return isGroup ? database.groups[id] : database.users[id]
    }
}
