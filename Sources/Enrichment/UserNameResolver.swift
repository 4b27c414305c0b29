import HostIO
import AuditEvents
import AuditRecords

/// Names the user and group ids of an event that the log left unnamed, from a
/// `UserDatabase`. Names already in the event (from an ENRICHED log) are kept.
///
/// On a live node the database follows the host's files: an account created while
/// nodeaudit runs (useradd replaces /etc/passwd by rename) is named within a second.
/// Used by the pipeline's one thread.
package final class UserNameResolver: @unchecked Sendable {
    /// Read and replaced by the pipeline's one thread only: the run-time exclusivity
    /// checks (two per event) are left out.
    @exclusivity(unchecked) package private(set) var database: UserDatabase
    private let files: UserDatabaseFiles?
    /// Only events of this node are named (a log from elsewhere has other users); nil: all.
    private let onlyNode: [UInt8]?
    @exclusivity(unchecked) private var nextCheck: UInt64 = 0
    private static let unsetName: Bytes = Array("unset".utf8)[...]
    private static let checkEveryMilliseconds: UInt64 = 1000

    /// A fixed database (offline parsing, tests).
    package init(database: UserDatabase, onlyNode: String? = nil) {
        self.database = database
        files = nil
        self.onlyNode = onlyNode.map { Array($0.utf8) }
    }

    /// The database of these files, read again whenever one of them changes.
    package init(passwdPath: String, groupPath: String, onlyNode: String? = nil) {
        let files = UserDatabaseFiles(passwdPath: passwdPath, groupPath: groupPath)
        self.files = files
        database = files.read()
        self.onlyNode = onlyNode.map { Array($0.utf8) }
    }

    /// Reads the files again now if they changed (SIGHUP); true when it did.
    @discardableResult
    package func reloadIfChanged() -> Bool {
        guard let files, files.changed() else { return false }
        database = files.read()
        return true
    }

    package func enrich(_ event: inout AuditEvent) {
        if let onlyNode, !(event.nodeName?.elementsEqual(onlyNode) ?? false) {
            // Another machine's ids: only the kernel's "unset" is the same everywhere.
            event.nameIdentities { id, _ in id == Identity.unset ? Self.unsetName : nil }
            return
        }
        if files != nil {
            let now = MonotonicClock.nowMilliseconds()
            if now >= nextCheck {
                nextCheck = now + Self.checkEveryMilliseconds
                reloadIfChanged()
            }
        }
        event.nameIdentities(name)
    }

    private func name(_ id: UInt32, isGroup: Bool) -> Bytes? {
        if id == Identity.unset { return Self.unsetName }
        return isGroup ? database.groups[id] : database.users[id]
    }
}
