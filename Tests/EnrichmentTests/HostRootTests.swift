import Foundation
import HostIO
import Testing

/// `WorkerThread.inRoot`, with which nodeaudit in a pod adds watches from the node's root:
/// the thread sees the other root, the rest of the process keeps its own.
@Suite("a thread rooted elsewhere")
struct HostRootTests {
    @Test("a thread rooted in a directory reads its files at / while the process still sees its own root")
    func rootedThread() throws {
        try #require(geteuid() == 0, "chroot needs root (CAP_SYS_CHROOT)")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-root-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("etc"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let word = "nodeaudit-root-\(UUID().uuidString.prefix(8))"
        try Data(word.utf8).write(to: root.appendingPathComponent("etc/marker"))

        var seen = ""
        let failed = WorkerThread.inRoot(root.path) {
            seen = (try? String(contentsOfFile: "/etc/marker", encoding: .utf8)) ?? "unreadable"
        }
        #expect(failed == 0)
        #expect(seen == word)
        #expect(!FileManager.default.fileExists(atPath: "/etc/marker"), "the process's own root changed")
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("etc/marker").path))
    }

    @Test("a root that does not exist is an errno, and the body does not run")
    func missingRoot() {
        var ran = false
        let failed = WorkerThread.inRoot("/nonexistent-\(UUID().uuidString)") { ran = true }
        #expect(failed != 0)
        #expect(!ran)
    }
}
