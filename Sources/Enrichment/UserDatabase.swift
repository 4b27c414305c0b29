import HostIO
import AuditRecords
#if canImport(Glibc)
import Glibc
#endif

/// User and group names by id, from passwd/group files: what `ausearch -i` shows for
/// uid fields, for logs written without auditd's ENRICHED names.
package struct UserDatabase: Sendable {
    package private(set) var users = AccountNames()
    package private(set) var groups = AccountNames()

    /// Reads `passwd` and `group` files (the host's, or a mounted copy in a container).
    /// A file that cannot be read leaves its table empty.
    package init(passwdPath: String, groupPath: String) {
        users = (try? HostFile.read(passwdPath)).map(AccountNames.init(parsing:)) ?? AccountNames()
        groups = (try? HostFile.read(groupPath)).map(AccountNames.init(parsing:)) ?? AccountNames()
    }
}

/// Account names by numeric id, sorted by id and found by binary search: every event
/// asks for a few (its uid, gid and login uid), and a dictionary hashed each id with
/// SipHash first (callgrind: some 350 instructions a live event).
package struct AccountNames: Sendable {
    private var ids: [UInt32] = []
    private var names: [Bytes] = []

    package init() {}

    /// Parses `name:password:id:…` lines; the first name for an id wins, as in getpwuid.
    package init(parsing text: [UInt8]) {
        var firstNames: [UInt32: Bytes] = [:]
        for line in text.split(separator: UInt8(ascii: "\n")) {
            if line.first == UInt8(ascii: "#") { continue }
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, !parts[0].isEmpty,
                  let id = ByteNumbers.decimal(parts[2]).flatMap({ UInt32(exactly: $0) }) else { continue }
            if firstNames[id] == nil { firstNames[id] = parts[0] }
        }
        for (id, name) in firstNames.sorted(by: { $0.key < $1.key }) {
            ids.append(id)
            names.append(name)
        }
    }

    package var count: Int { ids.count }

    package subscript(id: UInt32) -> Bytes? {
        ids.withUnsafeBufferPointer { ids in
            var low = 0
            var high = ids.count
            while low < high {
                let middle = (low + high) / 2
                if ids[middle] < id { low = middle + 1 } else { high = middle }
            }
            return low < ids.count && ids[low] == id ? names[low] : nil
        }
    }
}

/// The passwd and group files behind a `UserDatabase`, and whether either changed since
/// it was last read: a new inode (replaced by rename, as useradd and vipw do), another
/// modification time or size.
package final class UserDatabaseFiles: @unchecked Sendable {
    private let passwdPath: String
    private let groupPath: String
    private var stamps: [FileStamp?] = []

    package init(passwdPath: String, groupPath: String) {
        self.passwdPath = passwdPath
        self.groupPath = groupPath
    }

    package func read() -> UserDatabase {
        stamps = currentStamps()
        return UserDatabase(passwdPath: passwdPath, groupPath: groupPath)
    }

    package func changed() -> Bool { currentStamps() != stamps }

    private func currentStamps() -> [FileStamp?] { [FileStamp(passwdPath), FileStamp(groupPath)] }
}
