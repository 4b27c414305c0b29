import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// The Debian package as a user installs it: built by `Scripts/package`, checked by
    /// lintian, installed with apt in a fresh Debian 12 (debootstrap's minbase, run by
    /// podman), and run from there against this machine's kernel.
    @Suite("The Debian package, installed in a fresh Debian 12")
    struct PackageKernelTests {
        typealias Live = LiveKernelTests

        @Test("lintian finds no error; in a fresh Debian 12: rules check, config check, parse, man, systemd-analyze verify; run --cleanup streams a marker exec; beside auditd the install says what to choose; remove keeps the kernel's rules, purge removes them")
        func installedPackage() throws {
            try #require(PodmanStorage.isAvailable, "podman and runc are missing: run Scripts/setup --test")
            let work = try Fixtures.temporaryDirectory("package")
            defer { try? FileManager.default.removeItem(at: work) }

            let built = try Command.run(Fixtures.repositoryRoot.appendingPathComponent("Scripts/package").path,
                                        [work.appendingPathComponent("debian").path], in: Fixtures.repositoryRoot.path)
            try #require(built.status == 0, "Scripts/package: \(built.stderr.suffix(3000))")
            let deb = try #require(built.stdoutText.split(separator: "\n").last.map(String.init))
            let lintian = try Command.run(try ReferenceTools.path("lintian", package: "lintian"), [deb])
            let errors = lintian.stdoutText.split(separator: "\n").filter { $0.hasPrefix("E:") }
            #expect(errors.isEmpty, "lintian: \(errors)")

            let root = work.appendingPathComponent("root")
            try DebianRoot.fresh(into: root)
            try FileManager.default.copyItem(atPath: deb, toPath: root.appendingPathComponent("tmp/nodeaudit.deb").path)
            try FileManager.default.copyItem(atPath: Fixtures.fixtureFile("kernel-cases.raw.log"),
                                             toPath: root.appendingPathComponent("tmp/sample.log").path)
            let storage = try PodmanStorage()
            defer { storage.remove() }
            let podman = storage.podman
            // Each step a container of its own on the same root, which keeps what the last changed.
            func once(_ options: [String], _ script: String) throws -> Command.Result {
                try storage.run(["run", "--rm"] + PodmanStorage.runQuirks + options + ["--rootfs", root.path, "/bin/sh", "-c", script])
            }
            let audit = ["--pid", "host", "--network", "host", "--cap-drop", "ALL", "--cap-add", "AUDIT_CONTROL,AUDIT_READ,AUDIT_WRITE"]

            // Installed as a user does it: apt resolves the package's Depends from Debian's mirror.
            let installed = try once(["--network", "host"], """
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -q && apt-get install -y -q --no-install-recommends /tmp/nodeaudit.deb man-db systemd
                """)
            try #require(installed.status == 0, "apt-get install: \(installed.stdoutText.suffix(3000)) \(installed.stderr.suffix(2000))")
            #expect(installed.stdoutText.contains("nodeaudit: no systemd here"), "the postinst's word without systemd: \(installed.stdoutText.suffix(1000))")

            let rules = try once([], "nodeaudit rules check")
            #expect(rules.status == 0 && rules.stdoutText.contains(" settings: OK"), "\(rules.stdoutText) \(rules.stderr)")
            let configuration = try once([], "nodeaudit config check /etc/nodeaudit/nodeaudit.yaml")
            #expect(configuration.status == 0 && configuration.stdoutText == "/etc/nodeaudit/nodeaudit.yaml: ok\n", "\(configuration.stdoutText) \(configuration.stderr)")
            let parsed = try once([], "nodeaudit parse --quiet /tmp/sample.log")
            let events = try Command.jsonLines(parsed.stdout)
            #expect(parsed.status == 0 && events.count >= 10, "\(parsed.stderr)")
            let manual = try once([], "MANWIDTH=80 man nodeaudit | head -8; MANWIDTH=80 man 5 nodeaudit.yaml | head -8")
            #expect(manual.stdoutText.contains("NODEAUDIT(8)") && manual.stdoutText.contains("Linux audit collector"), "man nodeaudit: \(manual.stdoutText) \(manual.stderr)")
            #expect(manual.stdoutText.contains("nodeaudit.yaml - configuration file"), "man 5 nodeaudit.yaml: \(manual.stdoutText)")
            let unit = try once([], "systemd-analyze verify /lib/systemd/system/nodeaudit.service")
            #expect(unit.status == 0, "systemd-analyze verify: \(unit.stdoutText) \(unit.stderr)")
            let completions = try once([], "ls /usr/share/bash-completion/completions/nodeaudit /usr/share/zsh/vendor-completions/_nodeaudit /usr/share/fish/vendor_completions.d/nodeaudit.fish")
            #expect(completions.status == 0, "\(completions.stderr)")

            // The installed binary on this machine's kernel (host pid and network, the audit capabilities only).
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let run = try LiveRun(executable: podman[0], arguments: Array(podman.dropFirst()) + ["run", "--rm"] + PodmanStorage.runQuirks + audit
                + ["--rootfs", root.path, "/usr/bin/nodeaudit", "run", "--cleanup", "--stats-interval", "0", "--no-containers"])
            try #require(try run.start(timeout: 60), "\(run.stderr)")
            let marker = Live.marker()
            _ = try Live.spawn("/bin/true", [marker])
            try #require(try run.barrier(), "the events did not reach the output: \(run.stderr)")
            #expect(run.stop() == 0, "\(run.stderr)")
            #expect(Live.execEvents(try run.events(), marker: marker).count == 1)
            #expect(try KernelAudit.listing() == snapshot.rules, "--cleanup must leave the rules as they were")

            // Beside another audit daemon the install starts nothing and says what to choose.
            let auditd = try ReferenceAuditd()
            defer { auditd.stop() }
            try #require(try auditd.waitUntilRegistered(), "auditd did not register")
            let reconfigured = try once(audit, "mkdir -p /run/systemd/system && /var/lib/dpkg/info/nodeaudit.postinst configure")
            #expect(reconfigured.stdoutText.contains("auditd is the audit daemon") && reconfigured.stdoutText.contains("audit.mode: multicast"),
                    "\(reconfigured.stdoutText) \(reconfigured.stderr)")
            #expect(try KernelAudit.status()["pid"] == String(auditd.pid), "the install must leave auditd the audit daemon")
            auditd.stop()

            // Remove keeps the kernel's rules; purge takes out those nodeaudit loaded, and its state.
            // This minimal system lacks some watched directories (/etc/ssh): those watches are
            // refused and the command says so (exit 1); the other rules load.
            let applied = try once(audit, "nodeaudit rules apply >/dev/null; nodeaudit rules list | wc -l")
            let loaded = Int(applied.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
            #expect(loaded > snapshot.rules.count + 30, "\(applied.stdoutText) \(applied.stderr)")
            let removed = try once(audit, "rm -rf /run/systemd; dpkg --remove nodeaudit")
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try KernelAudit.listing().count == loaded, "remove must leave the kernel's rules")
            let purged = try once(audit, "dpkg --purge nodeaudit && ls /var/lib/nodeaudit /etc/nodeaudit 2>&1")
            #expect(purged.stdoutText.contains("No such file"), "\(purged.stdoutText) \(purged.stderr)")
            #expect(try KernelAudit.listing() == snapshot.rules, "purge must take out the rules nodeaudit loaded")
            let settings = try KernelAudit.status()
            for setting in ["enabled", "backlog_limit", "backlog_wait_time"] {
                #expect(settings[setting] == snapshot.status[setting], "purge must put \(setting) back")
            }
        }
    }
}
