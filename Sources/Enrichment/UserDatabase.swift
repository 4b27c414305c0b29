import HostIO
import AuditRecords
#if canImport(Glibc)
import Glibc
#endif

/// User and group names by id, from passwd/group files: what `ausearch -i` shows for
/// uid fields, for logs written without auditd's ENRICHED names.
package struct UserDatabase: Sendable {
    package private(set) var users: [UInt32: Bytes] = [:]
    package private(set) var groups: [UInt32: Bytes] = [:]

    package init(users: [UInt32: Bytes], groups: [UInt32: Bytes]) {
        self.users = users
        self.groups = groups
    }

    /// Reads `passwd` and `group` files (the host's, or a mounted copy in a container).
    /// A file that cannot be read leaves its map empty.
    package init(passwdPath: String, groupPath: String) {
        users = (try? HostFile.read(passwdPath)).map(Self.parse) ?? [:]
        groups = (try? HostFile.read(groupPath)).map(Self.parse) ?? [:]
    }

    /// Parses `name:password:id:…` lines; the first name for an id wins, as in getpwuid.
    package static func parse(_ text: [UInt8]) -> [UInt32: Bytes] {
        var table: [UInt32: Bytes] = [:]
        for line in text.split(separator: UInt8(ascii: "\n")) {
            if line.first == UInt8(ascii: "#") { continue }
            let parts = line.split(separator: UInt8(ascii: ":"), maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3, !parts[0].isEmpty,
                  let id = ByteNumbers.decimal(parts[2]).flatMap({ UInt32(exactly: $0) }) else { continue }
            if table[id] == nil { table[id] = parts[0] }
        }
        return table
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
