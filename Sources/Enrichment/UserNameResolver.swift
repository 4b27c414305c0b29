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
        var named = NamesWritten()
        if var process = event.process {
            // Named on a copy, put back once: every access through `event.process!` would copy it.
            for role in IdentityRole.allCases {
                guard let identity = process[role], identity.name == nil else { continue }
                process[role] = Identity(id: identity.id,
                                         name: named.name(identity.id, isGroup: role.isGroup, in: &event.text, from: name))
            }
            event.process = process
        }
        for index in event.paths.indices {
            if let owner = event.paths[index].owner, owner.name == nil {
                event.paths[index].owner?.name = named.name(owner.id, isGroup: false, in: &event.text, from: name)
            }
            if let group = event.paths[index].group, group.name == nil {
                event.paths[index].group?.name = named.name(group.id, isGroup: true, in: &event.text, from: name)
            }
        }
    }

    private func name(_ id: UInt32, isGroup: Bool) -> Bytes? {
        if id == Identity.unset { return Self.unsetName }
        return isGroup ? database.groups[id] : database.users[id]
    }

    /// The names this resolver already wrote into one event's text: the ids of an event
    /// repeat (uid, euid, suid and fsuid are mostly one user), and each name is written once.
    private struct NamesWritten {
        private var entries = InlineArray<8, (id: UInt32, isGroup: Bool, name: TextRange?)>(repeating: (0, false, nil))
        private var count = 0

        mutating func name(
            _ id: UInt32, isGroup: Bool, in text: inout EventText, from lookup: (UInt32, Bool) -> Bytes?
        ) -> TextRange? {
            for index in 0..<count where entries[index].id == id && entries[index].isGroup == isGroup {
                return entries[index].name
            }
            let name = lookup(id, isGroup).map { text.append($0) }
            if count < entries.count {
                entries[count] = (id, isGroup, name)
                count += 1
            }
            return name
        }
    }
}
