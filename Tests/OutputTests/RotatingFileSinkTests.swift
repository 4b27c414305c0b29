import Foundation
import Output
import Testing

@Suite("the file sink: size-based rotation with generations")
struct RotatingFileSinkTests {
    static func line(_ n: Int) -> [UInt8] { Array("{\"n\":\"\(String(format: "%05d", n))\"}\n".utf8) }  // 14 bytes

    @Test("files stay within the size, are cut between lines, and only the configured generations are kept")
    func rotation() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("events.jsonl").path
        let sink = try RotatingFileSink(path: path, maxBytes: 140, generations: 3)
        // 100 lines of 14 bytes in batches of 7: 10 lines per file, so 10 files were written.
        var batch: [UInt8] = []
        for n in 0..<100 {
            batch += Self.line(n)
            if n % 7 == 6 || n == 99 {
                try sink.write(batch)
                batch = []
            }
        }
        try sink.flush()
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(files == ["events.jsonl", "events.jsonl.1", "events.jsonl.2", "events.jsonl.3"])
        #expect(sink.rotations == 9)
        var kept: [Int] = []
        for name in ["events.jsonl.3", "events.jsonl.2", "events.jsonl.1", "events.jsonl"] {
            let data = try Data(contentsOf: directory.appendingPathComponent(name))
            #expect(data.count <= 140, "\(name) has \(data.count) bytes")
            #expect(data.last == UInt8(ascii: "\n"))
            for line in data.split(separator: UInt8(ascii: "\n")) {
                let object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: String]
                kept.append(try #require(object?["n"].flatMap { Int($0) }))
            }
        }
        #expect(kept == Array(60..<100), "the newest 40 events, in order, across the generations")
    }

    @Test("a restarted sink appends to the current file and counts its size")
    func appendsAfterRestart() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("events.jsonl").path
        try RotatingFileSink(path: path, maxBytes: 30, generations: 1).write(Self.line(1) + Self.line(2))
        let again = try RotatingFileSink(path: path, maxBytes: 30, generations: 1)
        try again.write(Self.line(3))
        #expect(again.rotations == 1)
        #expect(try String(contentsOfFile: path + ".1", encoding: .utf8) == "{\"n\":\"00001\"}\n{\"n\":\"00002\"}\n")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "{\"n\":\"00003\"}\n")
    }
}
