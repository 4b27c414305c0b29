import Collector
import RuleSync
import Foundation
import Testing
@testable import Pipeline
import TestSupport

/// The record of what nodeaudit loaded, and the look at the rule files that starts a
/// reload: both are files on the node, tested here on files of their own.
@Suite("Rule ownership record and rule file watch")
struct RuleOwnershipTests {
    static func directory() throws -> URL { try Fixtures.temporaryDirectory("ownership") }

    @Test("the record keeps rules in load order and each setting's first value; an empty record is no file")
    func recordRoundTrip() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var record = try RuleOwnership(directory: directory.path)
        #expect(record.isEmpty)
        record.added("-a always,exit -F arch=b64 -S execve -F key=exec")
        record.added("-w /etc/passwd -p wa -k identity")
        record.added("-w /etc/passwd -p wa -k identity")
        record.added("-w /etc/x\ny -p wa")
        record.changing("backlog_limit", from: 64)
        record.changing("backlog_limit", from: 8192)
        record.changing("enabled", from: 0)
        try record.save()

        var read = try RuleOwnership(directory: directory.path)
        #expect(read.rules == ["-a always,exit -F arch=b64 -S execve -F key=exec", "-w /etc/passwd -p wa -k identity"])
        #expect(read.settingsFound.map(\.name) == ["backlog_limit", "enabled"] && read.settingsFound.map(\.value) == [64, 0])
        read.removed("-w /etc/passwd -p wa -k identity")
        try read.save()
        #expect(try RuleOwnership(directory: directory.path).rules == ["-a always,exit -F arch=b64 -S execve -F key=exec"])

        read.clear()
        try read.save()
        #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent(RuleOwnership.fileName).path))
    }

    @Test("a record that is not nodeaudit's is refused with its line, not taken as empty")
    func foreignRecordRefused() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try "# comment\nrule -w /etc/hosts -p wa\nsomething else\n".write(to: directory.appendingPathComponent(RuleOwnership.fileName),
                                                                        atomically: true, encoding: .utf8)
        #expect { try RuleOwnership(directory: directory.path) } throws: { "\($0)".contains("owned-rules:3") }
    }

    @Test("the watch sees a file added, removed or rewritten, and a ConfigMap's ..data symlink swapped")
    func fileWatch() throws {
        let directory = try Self.directory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let fm = FileManager.default
        func configMap(_ version: String, _ text: String) throws {
            let path = directory.appendingPathComponent(version)
            try fm.createDirectory(at: path, withIntermediateDirectories: true)
            try text.write(to: path.appendingPathComponent("a.rules"), atomically: true, encoding: .utf8)
            try? fm.removeItem(at: directory.appendingPathComponent("..tmp"))
            try fm.createSymbolicLink(atPath: directory.appendingPathComponent("..tmp").path, withDestinationPath: version)
            #expect(rename(directory.appendingPathComponent("..tmp").path, directory.appendingPathComponent("..data").path) == 0)
        }
        try configMap("..v1", "-w /etc/hosts -p wa\n")
        try fm.createSymbolicLink(atPath: directory.appendingPathComponent("a.rules").path, withDestinationPath: "..data/a.rules")
        var watch = RuleFileWatch(paths: [directory.path])
        func changed() -> Bool { watch.changed() }
        #expect(!changed())
        try configMap("..v2", "-w /etc/hosts -p wa\n")
        #expect(changed())
        #expect(!changed())
        try "-w /etc/group -p wa\n".write(to: directory.appendingPathComponent("b.rules"), atomically: true, encoding: .utf8)
        #expect(changed())
        try fm.removeItem(at: directory.appendingPathComponent("b.rules"))
        #expect(changed())
        #expect(!changed())
    }
}
