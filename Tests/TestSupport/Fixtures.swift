import AuditRecords
import Foundation

/// Real audit lines for tests: `Tests/Fixtures` (recorded by Scripts/capture-fixtures)
/// and the corpus of whole logs in `Tests/Corpus` (see its README), both in the
/// repository, so that a fresh clone tests with nothing beside it.
public enum Fixtures {
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A new, empty directory of the test's own under the temporary directory
    /// (`nodeaudit-PURPOSE-UUID`); the caller removes it.
    public static func temporaryDirectory(_ purpose: String) throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-\(purpose)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    public static let corpusDirectory: URL = repositoryRoot.appendingPathComponent("Tests/Corpus")

    /// A corpus log's path (`Tests/Corpus/NAME`).
    public static func corpusFile(_ name: String) -> String {
        corpusDirectory.appendingPathComponent(name).path
    }

    public static func fixtureFile(_ name: String) -> String {
        repositoryRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name).path
    }

    /// The lines of a fixture or corpus file.
    public static func lines(ofFile path: String) throws -> [String] {
        return try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    }

    /// The first line of `Tests/Fixtures/kernel-cases.raw.log` (or another file) with
    /// every given fragment.
    public static func line(_ fragments: String..., in file: String = "kernel-cases.raw.log") throws -> String {
        let all = try lines(ofFile: fixtureFile(file))
        guard let line = all.first(where: { line in fragments.allSatisfy { line.contains($0) } }) else {
            throw FixtureError.noLine(fragments.joined(separator: " & "), file)
        }
        return line
    }

    /// All lines with a stamp's serial (`:11)`), i.e. the records of one event.
    public static func event(serial: UInt64, in file: String = "kernel-cases.raw.log") throws -> [String] {
        let all = try lines(ofFile: fixtureFile(file))
        return all.filter { $0.contains(":\(serial)):") }
    }

    /// Parses one log line into a record.
    public static func record(_ line: String) throws -> AuditRecord {
        try RecordParser.parseLogLine(Array(line.utf8))
    }

    public enum FixtureError: Error, CustomStringConvertible {
        case noLine(String, String)
        public var description: String {
            switch self {
            case .noLine(let what, let file): return "no line with \(what) in \(file)"
            }
        }
    }
}
