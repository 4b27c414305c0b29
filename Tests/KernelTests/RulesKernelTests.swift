import Foundation
import Testing
import TestSupport

extension KernelSuite {
    @Suite("nodeaudit rules on the real kernel", .serialized)
    struct RulesKernelTests {
        static let exampleDirectory = "/usr/share/doc/auditd/examples/rules"

        /// auditd's example rule files, nodeaudit's default rules, and rule sets written the
        /// way public ones are (-D/-b/-f/-i or -c headers, lines this host cannot hold).
        static let ruleFiles: [String] = {
            func files(_ directory: String) -> [String] {
                ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [])
                    .filter { $0.hasSuffix(".rules") }.sorted().map { directory + "/" + $0 }
            }
            return files(exampleDirectory) + files(Fixtures.repositoryRoot.appendingPathComponent("Rules").path)
                + files(Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/rules").path)
        }()

        /// Whether a rule file sets auditctl's -c or -i (then a failing line is skipped).
        static func continuesOnError(_ file: String) throws -> Bool {
            try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").contains { $0 == "-c" || $0 == "-i" }
        }

        @Test("auditctl -R and nodeaudit rules apply leave identical auditctl -l listings, order included; a second apply changes nothing")
        func sameAsAuditctl() throws {
            try #require(Self.ruleFiles.count > 30, "auditd's example rules are missing: run Scripts/setup --test")
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            var compared: [String] = []
            var refusedByAuditctl: [String] = []
            for file in Self.ruleFiles {
                if try KernelAudit.locksKernel(file: file) { continue }
                // Start from rules in another order, so that order is checked, not only sets.
                _ = try KernelAudit.auditctl("-D")
                _ = try KernelAudit.auditctl("-a", "always,exit", "-F", "arch=b64", "-S", "getpid", "-k", "nodeaudit_test_before")
                let byAuditctlStatus = try KernelAudit.auditctl("-R", file).status
                let tolerant = try Self.continuesOnError(file)
                guard byAuditctlStatus == 0 || tolerant else {
                    refusedByAuditctl.append(file)
                    continue
                }
                let byAuditctl = try KernelAudit.listing()
                _ = try KernelAudit.auditctl("-D")
                _ = try KernelAudit.auditctl("-a", "always,exit", "-F", "arch=b64", "-S", "getpid", "-k", "nodeaudit_test_before")

                let apply = try NodeAuditBinary.run("rules", "apply", file)
                #expect(apply.status == (byAuditctlStatus == 0 ? 0 : 1), "\(file): \(apply.stderr)")
                #expect(try KernelAudit.listing() == byAuditctl, "\(file) loads differently")

                let again = try NodeAuditBinary.run("rules", "apply", file)
                #expect(again.stdoutText.hasPrefix("no changes"), "\(file): second apply changed \(again.stdoutText)")
                compared.append(file)
            }
            #expect(compared.count >= 32, "compared \(compared.count); auditctl refused \(refusedByAuditctl)")
            let shipped = try FileManager.default.contentsOfDirectory(atPath: Fixtures.repositoryRoot.appendingPathComponent("Rules").path)
                .filter { $0.hasSuffix(".rules") }
            #expect(shipped.count >= 10)
            #expect(compared.filter { $0.contains("/Rules/") }.count == shipped.count, "every file of Rules/ must load")
            #expect(compared.filter { $0.contains("/Fixtures/rules/") }.count == 2)
        }

        @Test("-i: what this host lacks is a warning with file:line, other bad lines errors, the rest loads; rules check says the same offline")
        func ignoreErrorsReport() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let file = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/rules/public-style-ignore.rules").path
            let check = try NodeAuditBinary.run("rules", "check", file)
            #expect(check.status == 0, "\(check.stderr)")
            #expect(check.stdoutText.contains("lines skipped (-i)"), "\(check.stdoutText)")
            for (line, says) in [(32, "/opt/nodeaudit-absent/bin"), (35, "unknown user or group"), (56, "unknown syscall")] {
                let said = check.stderr.split(separator: "\n").first { $0.contains("\(file):\(line): skipped:") }
                #expect(said?.contains(" warning ") == true && said?.contains(says) == true, "line \(line): \(check.stderr)")
            }
            let unknownField = check.stderr.split(separator: "\n").first { $0.contains("\(file):71: skipped:") }
            #expect(unknownField?.contains(" error ") == true, "the -F nosuchfield line is an error: \(check.stderr)")
            let apply = try NodeAuditBinary.run("rules", "apply", file)
            #expect(apply.status == 0)
            #expect(try KernelAudit.listing().contains("-a always,exit -F arch=b64 -S kexec_load -F key=T1014_kexec"))
        }

        @Test("ownership: apply records what it loaded; rules delete --all-owned removes it and restores the settings, other rules stay")
        func deleteAllOwned() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let state = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-owned-\(getpid())")
            defer { try? FileManager.default.removeItem(at: state) }
            _ = try KernelAudit.auditctl("-D")
            _ = try KernelAudit.auditctl("-b", "321", "-r", "0")
            let foreign = "-a always,exit -F arch=b64 -S getppid -F key=nodeaudit_test_foreign"
            _ = try KernelAudit.auditctl("-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-k", "nodeaudit_test_foreign")
            let before = try KernelAudit.listing()
            let statusBefore = try KernelAudit.status()

            let file = state.appendingPathExtension("rules")
            try "-b 4321\n-r 77\n-a always,exit -F arch=b64 -S getpid -k nodeaudit_test_a\n-w /etc/hosts -p wa -k nodeaudit_test_b\n"
                .write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            #expect(try NodeAuditBinary.run("rules", "apply", "--state-directory", state.path, file.path).status == 0)
            #expect(try KernelAudit.listing().count == 3)
            #expect(try KernelAudit.status()["backlog_limit"] == "4321")
            let record = try String(contentsOf: state.appendingPathComponent("owned-rules"), encoding: .utf8)
            #expect(record.contains("rule -w /etc/hosts -p wa -k nodeaudit_test_b") && record.contains("setting backlog_limit 321"))

            let uninstall = try NodeAuditBinary.run("rules", "delete", "--all-owned", "--state-directory", state.path)
            #expect(uninstall.status == 0, "\(uninstall.stderr)")
            #expect(try KernelAudit.listing() == before)
            let statusAfter = try KernelAudit.status()
            for name in ["backlog_limit", "rate_limit", "enabled", "failure"] { #expect(statusAfter[name] == statusBefore[name], "\(name)") }
            #expect(!FileManager.default.fileExists(atPath: state.appendingPathComponent("owned-rules").path))
            #expect(try KernelAudit.listing().contains(foreign))
        }

        @Test("after auditctl -d of one rule, rules diff shows exactly that rule and exits 1; apply repairs it")
        func diffShowsDeletedRule() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let rules = Fixtures.repositoryRoot.appendingPathComponent("Rules").path
            _ = try KernelAudit.auditctl("-D")
            #expect(try NodeAuditBinary.run("rules", "apply", rules).status == 0)
            #expect(try NodeAuditBinary.run("rules", "diff", rules).status == 0)

            // A rule with two keys (its name and the ATT&CK technique it is tagged with).
            let removed = "-a always,exit -F arch=b64 -S memfd_create -F key=mem_fd -F key=T1620"
            let loaded = try KernelAudit.listing()
            #expect(loaded.contains(removed), "\(loaded)")
            _ = try KernelAudit.auditctl("-d", "always,exit", "-F", "arch=b64", "-S", "memfd_create", "-F", "key=mem_fd", "-F", "key=T1620")
            #expect(!(try KernelAudit.listing().contains(removed)))

            let diff = try NodeAuditBinary.run("rules", "diff", rules)
            #expect(diff.status == 3)
            #expect(diff.stdoutText == "+ \(removed)\n")

            let repair = try NodeAuditBinary.run("rules", "apply", rules)
            #expect(repair.status == 0)
            #expect(repair.stdoutText == "+ \(removed)\n")
            #expect(try NodeAuditBinary.run("rules", "diff", rules).status == 0)
        }

        @Test("a file with a bad line changes nothing in the kernel")
        func malformedFileAppliesNothing() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            _ = try KernelAudit.auditctl("-D")
            _ = try KernelAudit.auditctl("-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-k", "nodeaudit_test_keep")
            let before = try KernelAudit.listing()
            let statusBefore = try KernelAudit.status()

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-bad-\(getpid()).rules")
            try """
                -b 12345
                -a always,exit -F arch=b64 -S getpid -k nodeaudit_test_new
                -a always,exit -F arch=b64 -S nosuchsyscall -k nodeaudit_test_bad
                -w /etc/passwd -p wz -k nodeaudit_test_bad2
                """.write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }

            let apply = try NodeAuditBinary.run("rules", "apply", "--prune", file.path)
            #expect(apply.status == 2)
            #expect(apply.stderr.contains("\(file.path):3: -S nosuchsyscall: unknown syscall"))
            #expect(apply.stderr.contains("\(file.path):4: -p takes permissions"))
            #expect(apply.stderr.contains("nothing was changed"))
            #expect(apply.stdout.isEmpty)
            #expect(try KernelAudit.listing() == before)
            #expect(try KernelAudit.status()["backlog_limit"] == statusBefore["backlog_limit"])
        }

        @Test("rules the files do not name stay unless -D or --prune; rules delete removes only the files' rules")
        func pruneAndDelete() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            _ = try KernelAudit.auditctl("-D")
            let foreign = "-a always,exit -F arch=b64 -S getppid -F key=nodeaudit_test_foreign"
            _ = try KernelAudit.auditctl("-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-k", "nodeaudit_test_foreign")

            let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-own-\(getpid()).rules")
            try "-a always,exit -F arch=b64 -S getpid -k nodeaudit_test_own\n".write(to: file, atomically: true, encoding: .utf8)
            defer { try? FileManager.default.removeItem(at: file) }
            let own = "-a always,exit -F arch=b64 -S getpid -F key=nodeaudit_test_own"

            #expect(try NodeAuditBinary.run("rules", "apply", file.path).status == 0)
            #expect(try KernelAudit.listing() == [foreign, own])

            let dryRun = try NodeAuditBinary.run("rules", "apply", "--prune", "--dry-run", file.path)
            #expect(dryRun.status == 3)
            #expect(dryRun.stdoutText == "- \(foreign)\n")
            #expect(try KernelAudit.listing() == [foreign, own])

            #expect(try NodeAuditBinary.run("rules", "apply", "--prune", file.path).status == 0)
            #expect(try KernelAudit.listing() == [own])

            _ = try KernelAudit.auditctl("-a", "always,exit", "-F", "arch=b64", "-S", "getppid", "-k", "nodeaudit_test_foreign")
            let delete = try NodeAuditBinary.run("rules", "delete", file.path)
            #expect(delete.status == 0)
            #expect(delete.stdoutText == "- \(own)\n")
            #expect(try KernelAudit.listing() == [foreign])
        }

        @Test("status and rules list agree with auditctl")
        func statusAndList() throws {
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            _ = try KernelAudit.auditctl("-D")
            #expect(try NodeAuditBinary.run("rules", "apply", Fixtures.repositoryRoot.appendingPathComponent("Rules").path).status == 0)
            let list = try NodeAuditBinary.run("rules", "list")
            #expect(list.stdoutText.split(separator: "\n").map(String.init) == (try KernelAudit.listing()))

            let status = try NodeAuditBinary.run("status", "--json")
            let object = try #require(try JSONSerialization.jsonObject(with: status.stdout) as? [String: Int])
            let reference = try KernelAudit.status()
            for name in ["enabled", "failure", "pid", "rate_limit", "backlog_limit", "backlog_wait_time"] {
                #expect(object[name].map(String.init) == reference[name], "\(name)")
            }
            #expect(object["backlog_limit"] == 16384)
        }
    }
}
