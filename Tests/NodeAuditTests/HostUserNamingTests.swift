import Foundation
import Testing
import TestSupport

/// `parse` names user ids from this host's passwd only for events of this host: a log
/// from another machine has other users behind the same ids, and a wrong name is worse
/// than none. ENRICHED logs keep the names they carry (CorpusReferenceTests).
@Suite("user names in parsed logs")
struct HostUserNamingTests {
    static let log = """
        node=this-node type=SYSCALL msg=audit(1800000300.001:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=0 ppid=1 pid=50 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="id" exe="/usr/bin/id" key="exec"
        node=this-node type=EXECVE msg=audit(1800000300.001:1): argc=1 a0="id"
        node=other-node type=SYSCALL msg=audit(1800000300.002:1): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=0 items=0 ppid=1 pid=51 auid=4294967295 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="id" exe="/usr/bin/id" key="exec"
        node=other-node type=EXECVE msg=audit(1800000300.002:1): argc=1 a0="id"

        """

    /// The uid's and auid's names of each event, by node, as `parse` with `options` writes them.
    static func names(_ options: [String]) throws -> [String: (uid: String?, auid: String?)] {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-naming-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: file) }
        try log.write(to: file, atomically: true, encoding: .utf8)
        let result = try NodeAuditBinary.run(["parse", "--quiet"] + options + [file.path], environment: ["NODE_NAME": "this-node"])
        try #require(result.status == 0, "\(result.stderr)")
        var names: [String: (uid: String?, auid: String?)] = [:]
        for event in try Command.jsonLines(result.stdout) {
            let process = event["process"] as? [String: Any]
            names[event["node"] as? String ?? "?"] = ((process?["uid"] as? [String: Any])?["name"] as? String,
                                                      (process?["auid"] as? [String: Any])?["name"] as? String)
        }
        return names
    }

    @Test("by default only the events whose node= is this host's name are named; the kernel's unset id everywhere")
    func onlyThisHost() throws {
        let names = try Self.names([])
        #expect(names["this-node"]?.uid == "root")
        #expect(names["other-node"]?.uid == nil)
        #expect(names["other-node"]?.auid == "unset" && names["this-node"]?.auid == "unset")
    }

    @Test("--host-users names every event's ids; --no-host-users none")
    func asked() throws {
        let all = try Self.names(["--host-users"])
        #expect(all["this-node"]?.uid == "root" && all["other-node"]?.uid == "root")
        let none = try Self.names(["--no-host-users"])
        #expect(none["this-node"]?.uid == nil && none["other-node"]?.uid == nil)
    }
}
