import Foundation
import KubernetesAudit
import KubernetesAuditInput
import Output
import Pipeline
import Testing
import TestSupport

/// The follower of the API server's log against a writer that splits lines across writes
/// and rotates the file as the API server does, with the read loop's part played here:
/// every event read once, across rotations and across a stop and a new follower.
@Suite("API audit log follower", .serialized)
struct FileFollowerTests {
    final class Log {
        let directory: URL
        var path: String { directory.appendingPathComponent("audit.log").path }
        private var rotations = 0
        private var generator = SystemRandomNumberGenerator()

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-follow-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: path))
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        static func line(_ n: Int) -> String {
            #"{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"f-\#(n)","stage":"ResponseComplete","verb":"get","user":{"username":"u"},"stageTimestamp":"2026-12-06T10:00:00Z"}"# + "\n"
        }

        /// Appends the lines of `range` in writes of random sizes (lines split across writes).
        func write(_ range: Range<Int>) throws {
            let bytes = Array(range.map(Self.line).joined().utf8)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            defer { try? handle.close() }
            try handle.seekToEnd()
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...400, using: &generator))
                try handle.write(contentsOf: bytes[start..<end])
                start = end
            }
        }

        func rotate() throws {
            rotations += 1
            try FileManager.default.moveItem(atPath: path, toPath: directory.appendingPathComponent("audit-2026-12-06T10-00-\(rotations).000.log").path)
            try Data().write(to: URL(fileURLWithPath: path))
        }
    }

    /// The read loop's part: takes batches, numbers their writes, settles them at once.
    final class Reader {
        let inbox = APIAuditInbox()
        private(set) var ids: [String] = []
        private var writes: UInt64 = 0

        func drain(_ follower: APIAuditFileFollower) {
            for batch in inbox.take() {
                writes += 1
                batch.handed(writes)
                for line in String(decoding: batch.lines, as: UTF8.self).split(separator: "\n") {
                    if let range = line.range(of: #""audit_id":"f-"#) {
                        ids.append(String(line[range.upperBound...].prefix { $0 != "\"" }))
                    }
                }
            }
            follower.saveSettled(settledWrites: writes)
        }

        func follower(_ log: Log, state: URL) -> APIAuditFileFollower {
            APIAuditFileFollower(path: log.path, stateDirectory: state.path,
                                 encoder: APIEventEncoder(ecs: false, staticFields: .none, maxEventBytes: 1 << 20),
                                 selection: StageSelection(setting: "all")!, index: nil, inbox: inbox, diagnostics: Diagnostics(quiet: true))
        }

        /// Drains until `count` ids came or 30 s passed.
        func drain(_ follower: APIAuditFileFollower, until count: Int) {
            _ = Wait.until(seconds: 30) {
                drain(follower)
                return ids.count >= count
            }
        }
    }

    @Test("2,000 events written in pieces, rotated every 400, a stop and a new follower in the middle: each event once")
    func rotationsAndRestart() throws {
        let log = try Log()
        let state = log.directory.appendingPathComponent("state")
        let reader = Reader()
        var follower = reader.follower(log, state: state)
        follower.start()
        for chunk in 0..<3 {
            try log.write((chunk * 400)..<(chunk * 400 + 400))
            try log.rotate()
        }
        reader.drain(follower, until: 1200)
        try log.write(1200..<1300)
        // A stop while lines may still be unread, as the collector stops: what was read is
        // written, then settled.
        follower.stop()
        reader.drain(follower)
        try log.write(1300..<1400)
        try log.rotate()
        try log.write(1400..<1600)
        follower = reader.follower(log, state: state)
        follower.start()
        try log.write(1600..<1800)
        try log.rotate()
        try log.write(1800..<2000)
        reader.drain(follower, until: 2000)
        follower.stop()
        reader.drain(follower)
        let counted = Dictionary(reader.ids.map { ($0, 1) }, uniquingKeysWith: +)
        let missing = Set((0..<2000).map(String.init)).subtracting(counted.keys)
        #expect(missing.isEmpty, "\(missing.count) missing, e.g. \(missing.sorted { Int($0)! < Int($1)! }.prefix(10))")
        #expect(counted.values.allSatisfy { $0 == 1 }, "repeated: \(counted.filter { $0.value > 1 }.keys.sorted().prefix(10))")
    }
}
