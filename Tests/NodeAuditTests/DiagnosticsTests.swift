import Foundation
import Testing
import TestSupport

/// nodeaudit's own messages (stderr) as operators read them: text with time and level,
/// or JSON for pods; filtered by level; and exit statuses that tell usage from failure.
@Suite("diagnostics and exit statuses")
struct DiagnosticsTests {
    @Test("text lines carry time, level and the message; JSON lines are objects with the same")
    func formats() throws {
        let text = try NodeAuditBinary.run(["parse", "/etc/hostname"])
        let line = try #require(text.stderr.split(separator: "\n").first.map(String.init))
        #expect(line.range(of: #"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warning nodeaudit: /etc/hostname:1: "#, options: .regularExpression) != nil, "\(line)")

        let json = try NodeAuditBinary.run(["parse", "--log-format", "json", "/etc/hostname"])
        let objects = try Command.jsonLines(Data(json.stderr.utf8))
        #expect(objects.count == 3, "\(json.stderr)")
        #expect(objects.map { $0["level"] as? String } == ["warning", "notice", "error"])
        #expect(objects.allSatisfy { $0["logger"] as? String == "nodeaudit" && ($0["time"] as? String)?.hasSuffix("Z") == true })
        #expect((objects.first?["message"] as? String)?.hasPrefix("/etc/hostname:1: ") == true)
    }

    @Test("--log-level error keeps errors and drops notices; the environment sets it too")
    func levels() throws {
        let quiet = try NodeAuditBinary.run(["parse", "--log-level", "error", "/etc/hostname"])
        let kept = quiet.stderr.split(separator: "\n")
        #expect(kept.count == 1 && kept[0].contains(" error nodeaudit: not one of the 1 lines read was an audit record"), "\(quiet.stderr)")
        let environment = try Command.run("/usr/bin/env", ["NODEAUDIT_LOG_LEVEL=error", NodeAuditBinary.path, "rules", "check", "/nonexistent"])
        #expect(environment.status == 2)
        #expect(environment.stderr.contains(" error nodeaudit: /nonexistent: No such file or directory"), "\(environment.stderr)")
        let bad = try NodeAuditBinary.run(["parse", "--log-level", "loud", "/etc/hostname"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("log.level must be one of"), "\(bad.stderr)")
    }

    @Test("exit statuses: 2 for a wrong command line, 1 for a failure while running")
    func exitStatuses() throws {
        #expect(try NodeAuditBinary.run(["parse", "--no-such-flag"]).status == 2)
        #expect(try NodeAuditBinary.run(["rules", "check", "--no-such-flag"]).status == 2)
        #expect(try NodeAuditBinary.run(["parse", "/nonexistent/audit.log"]).status == 1)
        let help = try NodeAuditBinary.run(["parse", "--help"])
        #expect(help.status == 0)
        #expect(help.stdoutText.contains("(events.max_argv_bytes; default: 65536)"), "help from the settings table")
    }
}
