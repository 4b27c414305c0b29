import Foundation
import Pipeline
import Testing
import TestSupport

/// Hostile and broken input has a defined outcome: the event is still emitted with what is
/// known, the problem is counted, and the good events around it come out intact. Every
/// case runs between two good events through the whole offline pipeline.
@Suite("Malformed input: defined outcomes, nothing good lost")
struct MalformedInputTests {
    static let time = "1800000000.100"

    /// The records of one exec event as the kernel writes them.
    static func exec(_ serial: Int, execve: String = #"argc=2 a0="/bin/true" a1="ok""#, cwd: String = #""/""#,
                     extra: [String] = [], syscallExtra: String = "") -> [String] {
        let stamp = "msg=audit(\(time):\(serial)):"
        return [
            "type=SYSCALL \(stamp) arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=1 ppid=1 pid=\(serial) "
                + #"auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=1 comm="true" exe="/usr/bin/true" key="k""#
                + syscallExtra,
            "type=EXECVE \(stamp) \(execve)",
            "type=CWD \(stamp) cwd=\(cwd)",
        ] + extra + ["type=PROCTITLE \(stamp) proctitle=2F62696E2F7472756500"]
    }

    /// What came out for the bad part of the input.
    struct Outcome {
        var events: [[String: Any]]
        var counters: PipelineCounters
        func event(_ serial: Int) -> [String: Any]? { events.first { $0["serial"] as? Int == serial && $0["late"] == nil } }
        func argv(_ serial: Int) -> [String]? { (event(serial)?["process"] as? [String: Any])?["argv"] as? [String] }
        func malformedFields(_ serial: Int) -> Int { event(serial)?["malformed_fields"] as? Int ?? 0 }
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var lines: @Sendable () -> [[UInt8]]
        var check: @Sendable (Outcome) -> Void
        var testDescription: String { name }

        init(_ name: String, _ lines: @escaping @Sendable () -> [String], check: @escaping @Sendable (Outcome) -> Void) {
            self.name = name
            self.lines = { lines().map { Array($0.utf8) } }
            self.check = check
        }

        init(bytes name: String, _ lines: @escaping @Sendable () -> [[UInt8]], check: @escaping @Sendable (Outcome) -> Void) {
            self.name = name
            self.lines = lines
            self.check = check
        }
    }

    static let cases: [Case] = [
        Case("a record cut inside a quoted value", { [exec(10)[0], #"type=EXECVE msg=audit(1800000000.100:10): argc=2 a0="/bin/tr"#] }) { out in
            #expect(out.event(10)?["record_types"] as? [String] == ["SYSCALL", "EXECVE"])
            #expect(out.malformedFields(10) >= 1)
            #expect(out.counters.eventsWithMalformedFields == 1)
        },
        Case("a record cut inside its header", { ["type=SYSCALL msg=audit(1800000000.1"] }) { out in
            #expect(out.events.isEmpty)
            #expect(out.counters.malformed == 1)
        },
        Case("a line that is no record", { ["-- MARK --", "type=", "msg=audit(1800000000.100:10): x=1"] }) { out in
            #expect(out.events.isEmpty)
            #expect(out.counters.malformed == 3)
        },
        Case("bad hex in an argument", { exec(10, execve: #"argc=2 a0="/bin/true" a1=ZZ41"#) }) { out in
            #expect(out.argv(10) == ["/bin/true", "ZZ41"], "kept as written")
            #expect(out.malformedFields(10) == 1)
        },
        Case("odd-length hex in an argument", { exec(10, execve: #"argc=2 a0="/bin/true" a1=414"#) }) { out in
            #expect(out.argv(10) == ["/bin/true", "414"])
            #expect(out.malformedFields(10) == 1)
        },
        Case("fewer arguments than argc (a lost EXECVE record)", { exec(10, execve: #"argc=3 a0="/bin/true""#) }) { out in
            #expect(out.argv(10) == ["/bin/true"])
            #expect(out.malformedFields(10) == 1)
        },
        Case("a 300 KB argument", { exec(10, execve: #"argc=2 a0="/bin/true" a1=""# + String(repeating: "x", count: 300_000) + "\"") }) { out in
            let truncated = (out.event(10)?["process"] as? [String: Any])?["argv_truncated"] as? [String: Any]
            #expect(truncated?["omitted_bytes"] as? Int == 300_000 + "/bin/true".utf8.count - 65536)
            #expect(out.argv(10)?.joined().utf8.count == 65536)
        },
        Case("a 2 MiB line", { [String(repeating: "y", count: 2 << 20)] }) { out in
            #expect(out.events.isEmpty)
            #expect(out.counters.malformed == 1)
        },
        Case(bytes: "NUL bytes inside a record", {
            exec(10, cwd: "\"/a\u{0}b\"").map { Array($0.utf8) } + [Array("type=CWD msg=audit(1800000000.100:11): cwd=\"/\"\u{0}\u{0}".utf8)]
        }) { out in
            #expect((out.event(10)?["process"] as? [String: Any])?["cwd"] as? String == "/a\u{0}b")
            #expect(out.event(11) != nil)
        },
        Case(bytes: "invalid UTF-8 in a quoted value", {
            exec(10).map { line in
                line.hasPrefix("type=CWD") ? Array("type=CWD msg=audit(1800000000.100:10): cwd=\"/bad".utf8) + [0xff, 0xfe, 0x22] : Array(line.utf8)
            }
        }) { out in
            #expect((out.event(10)?["process"] as? [String: Any])?["cwd"] as? String == "/bad\u{fffd}\u{fffd}")
        },
        Case("a record repeated after its event was emitted", { exec(10) + [exec(10)[1]] }) { out in
            #expect(out.argv(10) == ["/bin/true", "ok"])
            #expect(out.counters.assembly.lateRecords == 1)
            #expect(out.events.filter { $0["late"] as? Bool == true }.count == 1)
        },
        Case("a whole event repeated", { exec(10) + exec(10) }) { out in
            #expect(out.argv(10) == ["/bin/true", "ok"])
            #expect(out.counters.assembly.lateRecords == 4)
        },
        Case("serials out of order", { exec(12) + exec(11) }) { out in
            #expect(out.argv(11) == ["/bin/true", "ok"] && out.argv(12) == ["/bin/true", "ok"])
            #expect(out.counters.assembly.lateRecords == 0)
        },
        Case("two events interleaved record by record", { zip(exec(10), exec(11)).flatMap { [$0, $1] } }) { out in
            #expect(out.event(10)?["record_types"] as? [String] == ["SYSCALL", "EXECVE", "CWD", "PROCTITLE"])
            #expect(out.event(11)?["record_types"] as? [String] == ["SYSCALL", "EXECVE", "CWD", "PROCTITLE"])
        },
        Case("an event whose last records never came", { Array(exec(10).prefix(2)) }) { out in
            #expect(out.argv(10) == ["/bin/true", "ok"])
        },
        Case("an end-of-event record with no event", { ["type=EOE msg=audit(1800000000.100:10): "] }) { out in
            #expect(out.events.allSatisfy { $0["serial"] as? Int != 10 || $0["late"] != nil })
        },
        Case("an unknown record type inside an event", { exec(10, extra: ["type=UNKNOWN[1999] msg=audit(1800000000.100:10): foo=bar"]) }) { out in
            #expect((out.event(10)?["record_types"] as? [String])?.contains("UNKNOWN[1999]") == true)
            #expect((out.event(10)?["details"] as? [[String: Any]])?.contains { $0["foo"] as? String == "bar" } == true)
        },
        Case("records of a newer kernel: unknown numbered type and new fields", {
            exec(10, syscallExtra: " newfield=7 another=\"x\"") + ["type=1999 msg=audit(1800000000.100:11): foo=bar"]
        }) { out in
            #expect(out.argv(10) == ["/bin/true", "ok"])
            #expect(out.malformedFields(10) == 0)
            #expect(out.event(11)?["record_types"] as? [String] == ["1999"])
        },
    ]

    @Test("each malformed input has its defined outcome, and the good events around it are intact", arguments: cases)
    func malformed(_ testCase: Case) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-malformed-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: file) }
        let before = Self.exec(1, execve: #"argc=2 a0="/bin/good" a1="before""#).map { Array($0.utf8) }
        let after = Self.exec(99, execve: #"argc=2 a0="/bin/good" a1="after""#).map { Array($0.utf8) }
        let lines = before + testCase.lines() + after
        try Data(lines.map { $0 + [UInt8(ascii: "\n")] }.joined()).write(to: file)

        let (events, counters) = try parseEvents([file.path])
        let outcome = Outcome(events: events, counters: counters)
        #expect(outcome.argv(1) == ["/bin/good", "before"])
        #expect(outcome.argv(99) == ["/bin/good", "after"])
        #expect(outcome.malformedFields(1) == 0 && outcome.malformedFields(99) == 0)
        testCase.check(Outcome(events: events.filter { $0["serial"] as? Int != 1 && $0["serial"] as? Int != 99 }, counters: counters))
    }
}
