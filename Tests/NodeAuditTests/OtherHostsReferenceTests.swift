import Foundation
import Testing
import TestSupport

/// Records of other hosts (SELinux and AppArmor denials, sudo, old PAM, journald's and
/// dmesg's kernel-log lines, syslog forwarding, i386 multiplexed syscalls, a filtered
/// log), written to the kernel's format in `Tests/Fixtures/other-hosts.log`, read by
/// nodeaudit and by libauparse (python3-audit; kernel-log prefixes removed for it, as it
/// reads audit.log lines only) and by laurel (events and argv): field by field, the same.
@Suite("other hosts' records against libauparse and laurel")
struct OtherHostsReferenceTests {
    /// Prints, per event, what libauparse interprets of the fields compared.
    static let reference = """
import audit, auparse, json, re, sys, tempfile
source = sys.argv[1]
prefix = re.compile(r"^.*? (node=\\S+ )?type=")
out_lines = []
for line in open(source, encoding="utf-8", errors="surrogateescape"):
    line = line.rstrip("\\n")
    if not line.startswith("type=") and not line.startswith("node="):
        m = prefix.match(line)
        line = (m.group(1) or "") + "type=" + line[m.end():]
    m = re.match(r"^(node=\\S+ )?type=(\\d+) audit\\(", line)
    if m:
        name = audit.audit_msg_type_to_name(int(m.group(2)))
        line = (m.group(1) or "") + "type=" + name + " msg=audit(" + line[m.end():]
    out_lines.append(line)
normalized = open(sys.argv[2], "w") if len(sys.argv) > 2 else tempfile.NamedTemporaryFile("w", suffix=".log", delete=False)
normalized.write("\\n".join(out_lines) + "\\n")
normalized.close()
au = auparse.AuParser(auparse.AUSOURCE_FILE, normalized.name)
events = []
while au.parse_next_event():
    event = {"serial": au.get_timestamp().serial, "argv": []}
    au.first_record()
    while True:
        rtype = au.get_type_name()
        au.first_field()
        argv = {}
        while True:
            name, raw = au.get_field_name(), au.get_field_str()
            value = au.interpret_field()
            if rtype == "EXECVE" and re.fullmatch(r"a\\d+", name):
                argv[int(name[1:])] = value
            elif name in ("syscall", "exit", "success", "cwd", "acct", "res", "cmd", "seresult", "seperms", "profile", "exe"):
                event.setdefault(name, value)
            elif name == "name" and rtype in ("PATH", "AVC"):
                event.setdefault("names", []).append(value)
            elif name in ("uid", "auid"):
                event.setdefault(name, int(raw))
                event.setdefault(name + "_name", value)
            elif name == "saddr":
                event.setdefault("saddr", value)
            if not au.next_field():
                break
        if argv:
            event["argv"] = [argv[i] for i in sorted(argv)]
        if not au.next_record():
            break
    events.append(event)
print(json.dumps(events))
"""

    @Test("0 mismatches in argv, socket addresses, syscall names (subcalls too), exit, success, cwd, path names, user ids and names, accounts, results, commands, SELinux verdicts and AppArmor profiles")
    func sameAsAuparse() throws {
        let file = Fixtures.fixtureFile("other-hosts.log")
        let normalized = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-other-hosts-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: normalized) }
        let result = try Command.run("/usr/bin/python3", ["-c", Self.reference, file, normalized.path])
        try #require(result.status == 0, "libauparse (python3-audit installed?): \(result.stderr)")
        let reference = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
        let events = try parseEvents([file]).events
        try #require(reference.count == events.count, "libauparse found \(reference.count) events, nodeaudit \(events.count)")
        let bySerial = Dictionary(events.map { ($0["serial"] as? Int ?? -1, $0) }, uniquingKeysWith: { first, _ in first })
        var compared = 0
        var mismatches: [String] = []
        func check(_ serial: Int, _ what: String, _ expected: Any?, _ actual: Any?) {
            guard let expected else { return }
            compared += 1
            if "\(expected)" != "\(actual ?? "nil")" { mismatches.append("\(serial) \(what): libauparse \(expected), nodeaudit \(actual ?? "nil")") }
        }
        for ref in reference {
            let serial = try #require(ref["serial"] as? Int)
            let event = try #require(bySerial[serial], "no event \(serial)")
            let process = event["process"] as? [String: Any] ?? [:]
            let syscall = event["syscall"] as? [String: Any]
            let message = (event["login"] ?? event["message"]) as? [String: Any]
            let details = (event["details"] as? [[String: Any]])?.first
            if let argv = ref["argv"] as? [String], !argv.isEmpty { check(serial, "argv", argv, process["argv"] as? [String]) }
            check(serial, "syscall", ref["syscall"], syscall?["name"])
            check(serial, "success", ref["success"], (syscall?["success"] as? Bool).map { $0 ? "yes" : "no" })
            if let exit = ref["exit"] as? String {
                let number = syscall?["exit"] as? Int
                check(serial, "exit", exit.split(separator: "(").first.map(String.init),
                      number.map { $0 < 0 ? (syscall?["errno"] as? String ?? "\($0)") : "\($0)" })
            }
            check(serial, "cwd", ref["cwd"], process["cwd"] ?? details?["cwd"])
            // A user-space message's exe is its sender's claim: nodeaudit keeps it in the
            // message (libauparse reports it as the process's), never as the process's own.
            check(serial, "exe", ref["exe"], message != nil && process["exe"] == nil ? message?["exe"] : process["exe"])
            for role in ["uid", "auid"] {
                let identity = process[role] as? [String: Any]
                check(serial, role, ref[role], identity?["id"])
                check(serial, role + " name", ref[role + "_name"], identity?["name"])
            }
            check(serial, "acct", ref["acct"], message?["account"])
            check(serial, "res", ref["res"], message?["result"])
            check(serial, "cmd", ref["cmd"], details?["cmd"])
            check(serial, "profile", ref["profile"], details?["profile"])
            if let names = ref["names"] as? [String] {
                let paths = (event["paths"] as? [[String: Any]])?.compactMap { $0["name"] as? String }
                check(serial, "names", names, paths ?? (details?["name"] as? String).map { [$0] })
            }
            let selinux = event["selinux"] as? [String: Any]
            check(serial, "seresult", ref["seresult"], selinux?["result"])
            check(serial, "seperms", ref["seperms"], (selinux?["permissions"] as? [String])?.joined(separator: ","))
            if let saddr = ref["saddr"] as? String {
                let socket = event["socket"] as? [String: Any]
                let shown = socket.map { "{ saddr_fam=\($0["family"] ?? "") laddr=\($0["address"] ?? "") lport=\($0["port"] ?? "") }" }
                check(serial, "saddr", saddr, shown)
            }
        }
        // laurel reads the same records (without the kernel-log prefixes) into the same events and argv.
        // (laurel's ids leave the node out; nodeaudit's say `NODE/` first.)
        func withoutNode(_ id: String) -> String { String(id.split(separator: "/").last ?? "") }
        let laurel = try laurelEvents(normalized.path)
        #expect(Set(laurel.compactMap { $0["ID"] as? String }) == Set(events.compactMap { ($0["id"] as? String).map(withoutNode) }))
        for event in laurel {
            guard let argv = (event["EXECVE"] as? [String: Any])?["ARGV"] as? [String], let id = event["ID"] as? String else { continue }
            let ours = events.first { ($0["id"] as? String).map(withoutNode) == id }?["process"] as? [String: Any]
            check(-1, "laurel argv of \(id)", argv, ours?["argv"] as? [String])
        }
        #expect(compared > 60, "only \(compared) values were compared")
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(compared): \(mismatches.joined(separator: "; "))")
    }
}
