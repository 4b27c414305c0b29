import Foundation
import RuleSync
import Testing
import TestSupport

/// Where `nodeaudit run` and `nodeaudit rules` find their rules when none are named, from
/// any working directory and any binary: the installed set, else the rules built into the
/// binary; `rules install` writes those into the default directory.
@Suite("default rules and rules install")
struct DefaultRulesTests {
    static let shipped = Fixtures.repositoryRoot.appendingPathComponent("Rules")

    static func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-rules-\(UUID().uuidString)")
    }

    /// Runs the binary in `directory`.
    static func run(_ arguments: [String], in directory: String) throws -> Command.Result {
        try Command.run(NodeAuditBinary.path, arguments, in: directory)
    }

    @Test("rules check with no path works from / and checks as many rules as Rules/ holds (or the installed copy)")
    func checkFromRoot() throws {
        let fromRoot = try Self.run(["rules", "check"], in: "/")
        #expect(fromRoot.status == 0, "\(fromRoot.stderr)")
        let explicit = try NodeAuditBinary.run(["rules", "check", Self.shipped.path])
        #expect(explicit.status == 0)
        if !FileManager.default.fileExists(atPath: "/etc/nodeaudit/rules.d") {
            #expect(fromRoot.stdoutText == explicit.stdoutText, "\(fromRoot.stdoutText) vs \(explicit.stdoutText)")
        }
        #expect(fromRoot.stdoutText.hasSuffix("settings: OK\n"), "\(fromRoot.stdoutText)")
    }

    @Test("the built-in rules are Rules/ byte for byte, and rules show --defaults prints them")
    func builtInEqualsRules() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.shipped.path).filter { $0.hasSuffix(".rules") }.sorted()
        #expect(DefaultRules.files.map(\.name) == names)
        for (name, text) in DefaultRules.files {
            #expect(text == (try String(contentsOf: Self.shipped.appendingPathComponent(name), encoding: .utf8)), "\(name) differs from Rules/")
        }
        let shown = try NodeAuditBinary.run(["rules", "show", "--defaults"])
        #expect(shown.status == 0, "\(shown.stderr)")
        let expected = try names.map { name in
            "## (built-in)/\(name)\n" + (try String(contentsOf: Self.shipped.appendingPathComponent(name), encoding: .utf8))
        }.joined()
        #expect(shown.stdoutText == expected)
    }

    @Test("a binary copied out of the checkout checks and installs the built-in rules, with no Rules/ anywhere near it")
    func copiedBinary() throws {
        let place = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: place) }
        let binary = place.appendingPathComponent("usr/local/bin/nodeaudit")
        try FileManager.default.createDirectory(at: binary.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Command.copyExecutable(NodeAuditBinary.path, to: binary.path)
        let check = try Command.run(binary.path, ["rules", "check"], in: "/")
        #expect(check.status == 0, "\(check.stderr)")
        if !FileManager.default.fileExists(atPath: DefaultRules.installedDirectory) {
            let explicit = try NodeAuditBinary.run(["rules", "check", Self.shipped.path])
            #expect(check.stdoutText == explicit.stdoutText)
        }
        let directory = place.appendingPathComponent("etc/nodeaudit/rules.d").path
        let install = try Command.run(binary.path, ["rules", "install", "--to", directory], in: "/")
        #expect(install.status == 0, "\(install.stderr)")
        for name in DefaultRules.files.map(\.name) {
            #expect(FileManager.default.contentsEqual(atPath: directory + "/" + name, andPath: Self.shipped.appendingPathComponent(name).path))
        }
    }

    @Test("a missing rule path is named in the message")
    func missingPathNamed() throws {
        let missing = Self.temporaryDirectory().path
        let result = try Self.run(["rules", "check", missing], in: "/")
        #expect(result.status == 2)
        #expect(result.stderr.contains("\(missing): No such file or directory"), "\(result.stderr)")
    }

    @Test("rules install copies the shipped files; again changes nothing; an edited copy is kept unless --force")
    func install() throws {
        let target = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: target) }
        let directory = target.appendingPathComponent("rules.d").path
        let first = try NodeAuditBinary.run(["rules", "install", "--to", directory])
        #expect(first.status == 0, "\(first.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.shipped.path).filter { $0.hasSuffix(".rules") }.sorted()
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).sorted() == names)
        for name in names {
            #expect(FileManager.default.contentsEqual(atPath: directory + "/" + name, andPath: Self.shipped.path + "/" + name))
        }
        #expect(first.stdoutText.split(separator: "\n").filter { $0.hasPrefix("+ ") }.count == names.count)

        let again = try NodeAuditBinary.run(["rules", "install", "--to", directory])
        #expect(again.status == 0)
        #expect(again.stdoutText.split(separator: "\n").allSatisfy { $0.hasPrefix("= ") })

        let edited = directory + "/" + names[0]
        try "## edited by the operator\n".write(toFile: edited, atomically: true, encoding: .utf8)
        let kept = try NodeAuditBinary.run(["rules", "install", "--to", directory])
        #expect(kept.status == 2)
        #expect(kept.stderr.contains("\(edited) differs"), "\(kept.stderr)")
        #expect(try String(contentsOfFile: edited, encoding: .utf8) == "## edited by the operator\n")
        let forced = try NodeAuditBinary.run(["rules", "install", "--to", directory, "--force"])
        #expect(forced.status == 0)
        #expect(FileManager.default.contentsEqual(atPath: edited, andPath: Self.shipped.path + "/" + names[0]))

        let check = try NodeAuditBinary.run(["rules", "check", directory])
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test("rules check warns as auditctl does, with file:line, and counts in words: 1 rule, 2 settings")
    func checkWarnings() throws {
        let directory = Self.temporaryDirectory()
        let empty = directory.appendingPathComponent("empty.d")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("w.rules")
        // Checked offline only: a file with -e 2 is never loaded by a test.
        try "-a always,exit -S openat -k noarch\n-b 8192\n-e 2\n".write(to: file, atomically: true, encoding: .utf8)
        let check = try NodeAuditBinary.run(["rules", "check", file.path, empty.path])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdoutText == "1 rule, 0 deletions, 2 settings: OK (3 warnings)\n", "\(check.stdoutText)")
        #expect(check.stderr.contains("\(file.path):1: a syscall rule without -F arch="), "\(check.stderr)")
        #expect(check.stderr.contains("\(file.path):3: -e 2 locks the audit configuration until reboot"))
        #expect(check.stderr.contains("\(empty.path): holds no *.rules file"))
        let clean = try NodeAuditBinary.run(["rules", "check", Self.shipped.path])
        #expect(clean.stderr.isEmpty, "the shipped rules warn: \(clean.stderr)")
        // Loading this very file by hand once locked a shared machine until reboot: the
        // test helpers refuse every way of doing it, before anything runs.
        #expect(throws: KernelAudit.LockRefused.self) { try KernelAudit.auditctl("-R", file.path) }
        for spelling in [["-e", "2"], ["-e2"], ["-e", "0x2"], ["-e", "02"]] {
            #expect(throws: KernelAudit.LockRefused.self, "\(spelling)") { try KernelAudit.auditctl(spelling) }
        }
        #expect(throws: KernelAudit.LockRefused.self) { try KernelAudit.auditctl("--loginuid-immutable") }
        #expect(throws: KernelAudit.LockRefused.self) { try NodeAuditBinary.run("rules", "apply", "--allow-immutable", file.path) }
        #expect(try KernelAudit.locksKernel(file: file.path))
        #expect(try !KernelAudit.locksKernel(file: Self.shipped.appendingPathComponent("00-settings.rules").path))
    }

    @Test("rules check --host-root looks for watched directories under the node's root, as run in the pod does")
    func hostRoot() throws {
        let directory = Self.temporaryDirectory()
        let name = "nodeaudit-on-the-node-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("root/\(name)/conf"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("watch.rules")
        try "-w /\(name)/conf/ -p wa -k node\n".write(to: file, atomically: true, encoding: .utf8)

        let here = try NodeAuditBinary.run(["rules", "check", file.path])
        #expect(here.stderr.contains("\(file.path):1: the watch needs the directory /\(name), which this host lacks"), "\(here.stderr)")
        let underRoot = try NodeAuditBinary.run(["rules", "check", "--host-root", directory.appendingPathComponent("root").path, file.path])
        #expect(underRoot.status == 0 && underRoot.stderr.isEmpty, "\(underRoot.stderr)")
        #expect(underRoot.stdoutText == "1 rule, 0 deletions, 0 settings: OK\n")
    }
}
