import Foundation
import Testing
import TestSupport

/// `nodeaudit config …` and `run --config` as an operator meets them.
@Suite("nodeaudit config and run --config")
struct ConfigCommandTests {
    static func file(_ text: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-config-\(UUID().uuidString).yaml")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    @Test("config check: ok for a good file; every problem with file:line:column and exit status 2 for a bad one")
    func check() throws {
        let good = try Self.file("audit:\n  mode: multicast\noutput:\n  queue_mb: 8\n")
        let bad = try Self.file("audit:\n  mode: multicast\n  take_ovr: true\noutput:\n  queue_mb: 0\n")
        defer { try? FileManager.default.removeItem(at: good); try? FileManager.default.removeItem(at: bad) }
        let ok = try NodeAuditBinary.run(["config", "check", good.path])
        #expect(ok.status == 0 && ok.stdoutText == "\(good.path): ok\n")
        let failed = try NodeAuditBinary.run(["config", "check", bad.path])
        #expect(failed.status == 2)
        #expect(failed.stderr.contains("\(bad.path):3:3: unknown setting 'audit.take_ovr' (did you mean 'take_over'?)"), "\(failed.stderr)")
        #expect(failed.stderr.contains("\(bad.path):5:13: output.queue_mb must be an integer from 1 to 16384, not 0"))
    }

    @Test("config show tells each value's origin: file, environment, default")
    func show() throws {
        let config = try Self.file("output:\n  queue_mb: 8\n")
        defer { try? FileManager.default.removeItem(at: config) }
        let shown = try Command.run("/usr/bin/env", ["NODEAUDIT_STATS_INTERVAL_SECONDS=5", NodeAuditBinary.path, "config", "show", "--config", config.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(shown.stdoutText.contains("  queue_mb: 8  # from \(config.path):2:3"))
        #expect(shown.stdoutText.contains("  interval_seconds: 5  # from $NODEAUDIT_STATS_INTERVAL_SECONDS"))
        #expect(shown.stdoutText.contains("  mode: \"unicast\"  # from default"))
    }

    @Test("run with a bad configuration stops before touching the kernel, with the error's location")
    func runRefusesBadConfiguration() throws {
        let config = try Self.file("rules:\n  drift_check_seconds: soon\n")
        defer { try? FileManager.default.removeItem(at: config) }
        let run = try NodeAuditBinary.run(["run", "--config", config.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains("\(config.path):2:24: rules.drift_check_seconds must be a number from 0 to 86400, not 'soon'"), "\(run.stderr)")
        // A rule path that does not exist: should the value ever be taken, run still stops before changing anything.
        let flag = try NodeAuditBinary.run(["run", "--rules", "/nonexistent/nodeaudit-rules", "--output-queue-mb", "lots"])
        #expect(flag.status == 2 && flag.stderr.contains("--output-queue-mb: output.queue_mb must be an integer"), "\(flag.stderr)")
    }

    @Test("config show masks header values (credentials) unless --reveal-secrets")
    func showMasksSecrets() throws {
        let config = try Self.file("output:\n  http_headers: [\"Authorization: Basic c2VjcmV0\", \"X-Scope-OrgID: tenant\"]\n")
        defer { try? FileManager.default.removeItem(at: config) }
        let shown = try NodeAuditBinary.run(["config", "show", "--config", config.path])
        #expect(shown.status == 0, "\(shown.stderr)")
        #expect(!shown.stdoutText.contains("c2VjcmV0"), "the credential was printed")
        #expect(shown.stdoutText.contains(#"http_headers: ["Authorization: ***", "X-Scope-OrgID: ***"]"#), "\(shown.stdoutText)")
        let revealed = try NodeAuditBinary.run(["config", "show", "--config", config.path, "--reveal-secrets"])
        #expect(revealed.stdoutText.contains("Authorization: Basic c2VjcmV0"))
    }

    @Test("config check refuses what run refuses: no output, take_over with multicast, a half client certificate, a header that breaks lines",
          arguments: [
            ("output:\n  stdout: false\n", ":2:3: no output"),
            ("audit:\n  mode: multicast\n  take_over: true\n", ":3:3: audit.take_over and audit.mode multicast exclude each other"),
            ("output:\n  syslog_cert_file: /etc/ssl/client.pem\n", ":2:3: output.syslog_cert_file and output.syslog_key_file go together"),
            ("output:\n  http_headers: [\"X-Evil: a\\r\\nHost: b\"]\n", "is not a `Name: value` header on one line"),
          ])
    func checkEqualsRun(yaml: String, message: String) throws {
        let config = try Self.file(yaml)
        defer { try? FileManager.default.removeItem(at: config) }
        let check = try NodeAuditBinary.run(["config", "check", config.path])
        #expect(check.status == 2)
        #expect(check.stderr.contains(message), "\(check.stderr)")
        let run = try NodeAuditBinary.run(["run", "--config", config.path])
        #expect(run.status == 2)
        #expect(run.stderr.contains(message), "\(run.stderr)")
    }
}
