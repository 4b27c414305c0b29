import OfflineParse
import AuditEvents
import Enrichment
import Foundation
import Pipeline
import Output
import Testing
import TestSupport

/// The `process` object of an event read back as JSON; empty when it has none.
private func processObject(_ event: [String: Any]) -> [String: Any] { event["process"] as? [String: Any] ?? [:] }

/// Filters, static fields and ATT&CK tags through `nodeaudit parse`, on the corpus: what a
/// filter drops is checked against the unfiltered output, read back as JSON.
@Suite("filters, static fields and technique tags")
struct EventSelectionTests {
    static let corpus = Fixtures.corpusFile("exec-net-login.raw.log")

    static func parse(_ arguments: [String], file: String = corpus) throws -> (events: [[String: Any]], summary: String) {
        let result = try NodeAuditBinary.run(["parse"] + arguments + [file])
        try #require(result.status == 0, "\(result.stderr)")
        return (try Command.jsonLines(result.stdout), result.stderr)
    }

    static func unfiltered() throws -> [[String: Any]] { try parse(["--quiet"]).events }


    /// What each filter of the test below names, read from the JSON the filter never saw.
    static func named(by filter: String) -> ([String: Any]) -> Bool {
        switch filter {
        case "drop exe=/usr/bin/true": { processObject($0)["exe"] as? String == "/usr/bin/true" }
        case "drop comm=sl*": { (processObject($0)["comm"] as? String)?.hasPrefix("sl") == true }
        case "drop syscall=mmap": { ($0["syscall"] as? [String: Any])?["name"] as? String == "mmap" }
        case "drop key=mmap_exec": { ($0["keys"] as? [String])?.contains("mmap_exec") == true }
        case "drop category=exec uid=0":
            { $0["category"] as? String == "exec" && (processObject($0)["uid"] as? [String: Any])?["id"] as? Int == 0 }
        case "drop auid=unset": { (processObject($0)["auid"] as? [String: Any])?["id"] as? Int == 4294967295 }
        case "drop argv=-c": { (processObject($0)["argv"] as? [String])?.contains("-c") == true && $0["category"] as? String == "exec" }
        case "drop argv=/usr/bin/*": { (processObject($0)["argv"] as? [String])?.contains { $0.hasPrefix("/usr/bin/") } == true }
        default: { _ in false }
        }
    }

    @Test("a filter drops exactly the events it names, and its count says how many", arguments: [
        "drop exe=/usr/bin/true", "drop comm=sl*", "drop syscall=mmap", "drop key=mmap_exec", "drop category=exec uid=0", "drop auid=unset",
        "drop argv=-c", "drop argv=/usr/bin/*",
    ])
    func dropsWhatItNames(filter: String) throws {
        let names = Self.named(by: filter)
        let all = try Self.unfiltered()
        try #require(all.count > 6000)
        let expectedDropped = all.filter(names).count
        try #require(expectedDropped > 0, "the corpus has events for \(filter)")
        let (kept, summary) = try Self.parse(["--filter", filter])
        #expect(kept.map { $0["id"] as? String } == all.filter { !names($0) }.map { $0["id"] as? String })
        #expect(summary.contains("\(expectedDropped) dropped by filters (\(expectedDropped) by '\(filter)')"), "\(summary)")
    }

    @Test("the first filter an event matches decides: keep, then drop all, keeps only what keep names")
    func firstMatchDecides() throws {
        let (kept, summary) = try Self.parse(["--filter", "keep category=network", "--filter", "drop all"])
        let all = try Self.unfiltered()
        let network = all.filter { $0["category"] as? String == "network" }
        #expect(!network.isEmpty)
        #expect(kept.map { $0["id"] as? String } == network.map { $0["id"] as? String })
        #expect(summary.contains("0 by 'keep category=network', \(all.count - network.count) by 'drop all'"), "\(summary)")
    }

    @Test("a filter that cannot be read stops parse with the reason", arguments: [
        ("remove exe=/bin/sh", "starts with drop or keep"), ("drop", "drop what?"), ("drop user=root", "not FIELD=VALUE"),
        ("drop uid=root", "uid takes a number"), ("drop exe=", "exe has no value"),
    ])
    func badFilter(filter: String, reason: String) throws {
        let result = try NodeAuditBinary.run(["parse", "--filter", filter, Self.corpus])
        #expect(result.status == 2)
        #expect(result.stderr.contains(reason), "\(result.stderr)")
        #expect(result.stdout.isEmpty)
    }

    static func syntheticLog(key: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-tags-\(UUID().uuidString).log")
        let hexKey = key.utf8.map { String(format: "%02X", $0) }.joined()
        let line = "type=SYSCALL msg=audit(1700000000.100:5): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=1 pid=2 auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"sh\" exe=\"/bin/sh\" subj=unconfined key=\(hexKey)\n"
        try line.write(to: file, atomically: true, encoding: .utf8)
        return file.path
    }

    @Test("rule keys that name ATT&CK techniques become techniques (native) and threat.technique.id / subtechnique.id (ECS), each once")
    func techniques() throws {
        let file = try Self.syntheticLog(key: "T1059.004_Unix_Shell\u{1}mitre-T1078,T1059.004,CVE-T12345,aT1111,T1003.0011")
        defer { try? FileManager.default.removeItem(atPath: file) }
        let native = try #require(try Self.parse(["--quiet"], file: file).events.first)
        #expect(native["techniques"] as? [String] == ["T1059.004", "T1078"])
        let ecs = try #require(try Self.parse(["--quiet", "--format", "ecs"], file: file).events.first)
        let threat = try #require(ecs["threat"] as? [String: Any])
        #expect(threat["framework"] as? String == "MITRE ATT&CK")
        #expect((threat["technique"] as? [String: Any])?["id"] as? [String] == ["T1059", "T1078"])
        #expect(((threat["technique"] as? [String: Any])?["subtechnique"] as? [String: Any])?["id"] as? [String] == ["T1059.004"])
        let (kept, _) = try Self.parse(["--quiet", "--filter", "drop technique=T1078"], file: file)
        #expect(kept.isEmpty)
    }

    @Test("keys that name no technique add no field", arguments: ["exec", "T123", "xT1059", "T10590"])
    func noTechnique(key: String) throws {
        let file = try Self.syntheticLog(key: key)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let native = try #require(try Self.parse(["--quiet"], file: file).events.first)
        #expect(native["keys"] as? [String] == [key])
        #expect(native["techniques"] == nil)
        let ecs = try #require(try Self.parse(["--quiet", "--format", "ecs"], file: file).events.first)
        #expect(ecs["threat"] == nil)
    }

    @Test("the cluster name and fields are in every event: native cluster and fields, ECS orchestrator.cluster.name and labels")
    func staticFields() throws {
        let flags = ["--quiet", "--cluster-name", "prod-eu-1", "--field", "env=prod", "--field", "note=a,b=c"]
        let native = try Self.parse(flags).events
        let ecs = try Self.parse(flags + ["--format", "ecs"]).events
        #expect(native.count == (try Self.unfiltered()).count && ecs.count == native.count)
        for event in native {
            #expect(event["cluster"] as? String == "prod-eu-1")
            #expect(event["fields"] as? [String: String] == ["env": "prod", "note": "a,b=c"])
        }
        for event in ecs {
            #expect((event["orchestrator"] as? [String: Any])?["cluster"] as? [String: String] == ["name": "prod-eu-1"])
            #expect(event["labels"] as? [String: String] == ["env": "prod", "note": "a,b=c"])
        }
        let bad = try NodeAuditBinary.run(["parse", "--field", "not a field", Self.corpus])
        #expect(bad.status == 2 && bad.stderr.contains("events.fields"))
    }

    @Test("filters replaced midway (SIGHUP): the new one acts from then on, an unchanged one keeps its count")
    func replacedMidway() throws {
        let lines = try Fixtures.lines(ofFile: Self.corpus).filter { !$0.isEmpty }
        let all = try Self.unfiltered()
        func isTrue(_ e: [String: Any]) -> Bool { Self.named(by: "drop exe=/usr/bin/true")(e) }
        func isMmap(_ e: [String: Any]) -> Bool { Self.named(by: "drop syscall=mmap")(e) }
        let parse = { (text: String) in try EventFilter.parse(text) }
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), filters: [try parse("drop exe=/usr/bin/true")], sink: sink)
        for line in lines[..<(lines.count / 2)] { try pipeline.add(try Fixtures.record(line)) }
        pipeline.replaceFilters([try parse("drop exe=/usr/bin/true"), try parse("drop syscall=mmap")])
        for line in lines[(lines.count / 2)...] { try pipeline.add(try Fixtures.record(line)) }
        try pipeline.finish()
        let written = try Command.jsonLines(Data(sink.bytes))
        let counts = pipeline.snapshot().filtered
        #expect(counts.map(\.filter) == ["drop exe=/usr/bin/true", "drop syscall=mmap"])
        #expect(!written.contains(where: isTrue))
        #expect(counts[0].dropped == UInt64(all.filter(isTrue).count))
        // The first filter that matches decides: mmap events of /usr/bin/true count there.
        let mmapWritten = written.filter(isMmap).count
        #expect(mmapWritten > 0 && counts[1].dropped > 0)
        #expect(UInt64(mmapWritten) + counts[1].dropped == UInt64(all.filter { isMmap($0) && !isTrue($0) }.count))
        #expect(written.count + Int(counts[0].dropped + counts[1].dropped) == all.count)
    }
}

/// Labels given by rules and carried to descendants, on the corpus's real process trees
/// and on a hand-made one with a reused pid.
@Suite("process labels")
struct ProcessLabelTests {

    @Test("a label given to su reaches every event of its descendants (dash, id) and of no other process")
    func corpusTree() throws {
        let all = try EventSelectionTests.unfiltered()
        var parent: [Int: Int] = [:]
        for event in all {
            if let pid = processObject(event)["pid"] as? Int, let ppid = processObject(event)["ppid"] as? Int { parent[pid] = parent[pid] ?? ppid }
        }
        let roots = Set(all.filter { processObject($0)["exe"] as? String == "/usr/bin/su" }.compactMap { processObject($0)["pid"] as? Int })
        try #require(!roots.isEmpty)
        func descends(_ pid: Int) -> Bool {
            var current: Int? = pid
            for _ in 0..<64 {
                guard let pid = current else { return false }
                if roots.contains(pid) { return true }
                current = parent[pid]
            }
            return false
        }
        let expected = all.filter { (processObject($0)["pid"] as? Int).map(descends) ?? false }.map { $0["id"] as? String }
        let depth = Set(all.filter { (processObject($0)["pid"] as? Int).map(descends) ?? false }.compactMap { processObject($0)["pid"] as? Int })
        #expect(depth.count >= 3, "su and at least two generations below it")
        let labelled = try EventSelectionTests.parse(["--quiet", "--label", "su exe=/usr/bin/su"]).events
        #expect(labelled.count == all.count)
        #expect(labelled.filter { $0["labels"] as? [String] == ["su"] }.map { $0["id"] as? String } == expected)
        #expect(labelled.allSatisfy { $0["labels"] == nil || $0["labels"] as? [String] == ["su"] })
        let kept = try EventSelectionTests.parse(["--quiet", "--label", "su exe=/usr/bin/su", "--filter", "keep label=su", "--filter", "drop all"])
        #expect(kept.events.map { $0["id"] as? String } == expected)
    }

    /// Events of a hand-made process tree, one exec each `(pid, ppid, exe)`, through a pipeline.
    static func run(_ tree: [(Int, Int, String)], enrichers: [any EventEnricher] = [], lineage: ProcessLineage? = nil,
                    labels: ProcessLabels? = nil) throws -> (events: [[String: Any]], counters: PipelineCounters) {
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: enrichers, encoder: NativeJSONEncoder(), lineage: lineage, labels: labels, sink: sink)
        for (index, (pid, ppid, exe)) in tree.enumerated() {
            try pipeline.add(try Fixtures.record(exec(index + 1, pid: pid, ppid: ppid, exe: exe)))
        }
        try pipeline.finish()
        return (try Command.jsonLines(Data(sink.bytes)), pipeline.snapshot())
    }

    static func exec(_ serial: Int, pid: Int, ppid: Int, exe: String) -> String {
        "type=SYSCALL msg=audit(1700000000.\(100 + serial):\(serial)): arch=c000003e syscall=59 success=yes exit=0 a0=1 a1=2 a2=3 a3=4 items=0 ppid=\(ppid) pid=\(pid) auid=0 uid=0 gid=0 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=pts0 ses=1 comm=\"x\" exe=\"\(exe)\" subj=unconfined key=\"exec\""
    }

    /// The clone event of `pid` whose child is `child`, under the fork rule's key.
    static func fork(_ serial: Int, pid: Int, ppid: Int, child: Int, exe: String) -> String {
        exec(serial, pid: pid, ppid: ppid, exe: exe).replacing("syscall=59 success=yes exit=0", with: "syscall=56 success=yes exit=\(child)")
            .replacing("key=\"exec\"", with: "key=\"fork\"")
    }

    @Test("a 3-level tree whose parents exit first is labelled throughout; a reused pid under another parent is not; the cap forgets the oldest and counts it")
    func handMadeTree() throws {
        let tree = [
            (100, 1, "/usr/bin/deploy"), (101, 100, "/bin/sh"), (102, 101, "/usr/bin/curl"), (103, 102, "/usr/bin/tar"),
            (101, 1, "/usr/sbin/cron"),  // pid 101 reused under another parent
            (104, 101, "/bin/true"),
        ]
        let labels = ProcessLabels(rules: [try LabelRule.parse("deploy exe=/usr/bin/deploy")], capacity: 3)
        let (events, counters) = try Self.run(tree, labels: labels)
        #expect(events.map { $0["labels"] as? [String] ?? [] } == [["deploy"], ["deploy"], ["deploy"], ["deploy"], [], []])
        // Four labelled processes, room for three: the first labelled (100) is forgotten.
        #expect(counters.labelEvictions == 1)
    }

    @Test("a label that cannot be read is refused", arguments: ["deploy", "exe=/usr/bin/deploy", "deploy user=root"])
    func badLabel(label: String) throws {
        let result = try NodeAuditBinary.run(["parse", "--label", label, EventSelectionTests.corpus])
        #expect(result.status == 2)
        #expect(result.stderr.contains("events.labels"), "\(result.stderr)")
    }
}

/// Parent and ancestry from the stream, on the corpus: checked against the exec events
/// of the plain output, found independently.
@Suite("process ancestry")
struct AncestryTests {

    @Test("each event's parent is its ppid with what that process's last exec showed; ancestors follow the ppid links; ECS says the same")
    func parents() throws {
        let plain = try EventSelectionTests.unfiltered()
        let traced = try EventSelectionTests.parse(["--quiet", "--ancestry-depth", "3"]).events
        let ecs = try EventSelectionTests.parse(["--quiet", "--ancestry-depth", "3", "--format", "ecs"]).events
        try #require(plain.count == traced.count && ecs.count == traced.count)
        var lastExec: [Int: [String: Any]] = [:]
        var parentOf: [Int: Int] = [:]
        var withExecParent = 0
        var withAncestors = 0
        for (index, (before, after)) in zip(plain, traced).enumerated() {
            let process = processObject(before)
            guard let pid = process["pid"] as? Int else { continue }
            let traced = processObject(after)
            if let ppid = process["ppid"] as? Int, ppid != 0 {
                let parent = try #require(traced["parent"] as? [String: Any], "\(after)")
                #expect(parent["pid"] as? Int == ppid)
                if let exec = lastExec[ppid] {
                    withExecParent += 1
                    #expect(parent["exec_event"] as? String == exec["id"] as? String)
                    #expect(parent["exe"] as? String == processObject(exec)["exe"] as? String)
                    #expect(parent["args"] as? [String] == processObject(exec)["argv"] as? [String])
                } else {
                    #expect(parent["exec_event"] == nil)
                }
                var expected: [Int] = []
                var next = parentOf[ppid]
                while expected.count < 3, let ancestor = next, ancestor != 0, ancestor != pid, ancestor != ppid, !expected.contains(ancestor) {
                    expected.append(ancestor)
                    next = parentOf[ancestor]
                }
                let ancestors = (traced["ancestors"] as? [[String: Any]] ?? []).map { $0["pid"] as? Int }
                #expect(ancestors == expected, "\(after["id"] ?? "")")
                if !expected.isEmpty { withAncestors += 1 }
                let ecsParent = (ecs[index]["process"] as? [String: Any])?["parent"] as? [String: Any]
                #expect(ecsParent?["pid"] as? Int == ppid)
                #expect(ecsParent?["executable"] as? String == parent["exe"] as? String)
                parentOf[pid] = ppid
            }
            if process["argv"] != nil { lastExec[pid] = before }
        }
        #expect(withExecParent > 100 && withAncestors > 100, "\(withExecParent) parents seen exec'ing, \(withAncestors) with ancestors")
        #expect(plain.allSatisfy { processObject($0)["parent"] == nil }, "off by default")
    }

    @Test("a child re-parented before its exec (sh -c 'cmd & exit 0') keeps the shell as parent when the stream showed the fork")
    func reparentedChild() throws {
        func exec(_ serial: Int, pid: Int, ppid: Int, exe: String) -> String { ProcessLabelTests.exec(serial, pid: pid, ppid: ppid, exe: exe) }
        func fork(_ serial: Int, pid: Int, ppid: Int, child: Int, exe: String) -> String {
            ProcessLabelTests.fork(serial, pid: pid, ppid: ppid, child: child, exe: exe)
        }
        let lines = [
            exec(1, pid: 500, ppid: 1, exe: "/usr/bin/python3.11"),            // the driver
            exec(2, pid: 501, ppid: 500, exe: "/usr/bin/dash"),                // sh -c '/bin/true & exit 0'
            fork(3, pid: 501, ppid: 500, child: 502, exe: "/usr/bin/dash"),    // the shell forks, then exits
            exec(4, pid: 502, ppid: 1, exe: "/usr/bin/true"),                  // adopted by init before its exec
            exec(5, pid: 503, ppid: 1, exe: "/usr/bin/true"),                  // no fork seen: init it is
            // The driver's fork of a shell logged after the shell's exec (the clone returned
            // late): the shell keeps what its exec said.
            exec(7, pid: 504, ppid: 500, exe: "/usr/bin/dash"),
            fork(8, pid: 500, ppid: 1, child: 504, exe: "/usr/bin/python3.11").replacing("1700000000.108:8", with: "1700000000.106:8"),
            exec(9, pid: 505, ppid: 504, exe: "/usr/bin/true"),
        ]
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), lineage: ProcessLineage(depth: 4, capacity: 64), sink: sink)
        for line in lines { try pipeline.add(try Fixtures.record(line)) }
        try pipeline.finish()
        let events = try Command.jsonLines(Data(sink.bytes))
        func process(_ pid: Int) -> [String: Any] {
            processObject(events.last { processObject($0)["pid"] as? Int == pid && $0["category"] as? String == "exec" } ?? [:])
        }
        let adopted = process(502)
        #expect(adopted["ppid"] as? Int == 1, "the kernel's ppid is kept as it said")
        let parent = adopted["parent"] as? [String: Any]
        #expect(parent?["pid"] as? Int == 501 && parent?["exe"] as? String == "/usr/bin/dash", "\(parent ?? [:])")
        #expect((adopted["ancestors"] as? [[String: Any]])?.first?["pid"] as? Int == 500)
        #expect((process(503)["parent"] as? [String: Any])?["pid"] as? Int == 1)
        let late = process(505)["parent"] as? [String: Any]
        #expect(late?["pid"] as? Int == 504 && late?["exe"] as? String == "/usr/bin/dash", "\(late ?? [:])")
    }

    @Test("a quiet ancestor outlives the many short-lived children that fill the table: the last child still names it")
    func quietAncestorKept() throws {
        func exec(_ serial: Int, pid: Int, ppid: Int, exe: String) -> String { ProcessLabelTests.exec(serial, pid: pid, ppid: ppid, exe: exe) }
        var lines = [exec(1, pid: 400, ppid: 1, exe: "/usr/bin/bash"), exec(2, pid: 500, ppid: 400, exe: "/usr/bin/make")]
        // 200 compilers under make, each seen once: make itself is never seen again.
        for child in 0..<200 { lines.append(exec(3 + child, pid: 1000 + child, ppid: 500, exe: "/usr/bin/cc")) }
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), lineage: ProcessLineage(depth: 4, capacity: 16), sink: sink)
        for line in lines { try pipeline.add(try Fixtures.record(line)) }
        try pipeline.finish()
        let events = try Command.jsonLines(Data(sink.bytes))
        let last = processObject(try #require(events.last))
        #expect(last["pid"] as? Int == 1199)
        let parent = last["parent"] as? [String: Any]
        #expect(parent?["pid"] as? Int == 500 && parent?["exe"] as? String == "/usr/bin/make", "\(parent ?? [:])")
        #expect((last["ancestors"] as? [[String: Any]])?.first?["exe"] as? String == "/usr/bin/bash")
        let counters = pipeline.snapshot()
        #expect(counters.ancestryEvictions >= 180 && counters.ancestryProcesses <= 16, "\(counters.ancestryEvictions) forgotten, \(counters.ancestryProcesses) kept")
    }

    @Test("a process's program keeps its executable, name and whole leading arguments up to the byte limits, whatever bytes they hold")
    func programPacking() {
        let argv: [[UInt8]] = [Array("/bin/sh".utf8), [0, 4, 0, 0, 0, 0xff], [], Array(repeating: 0x41, count: 10)]
        let program = Lineage.Program(exe: Array("/usr/bin/dash".utf8), comm: Array("sh".utf8), argv: argv, argvByteLimit: 13)
        #expect(program.exe.map(Array.init) == Array("/usr/bin/dash".utf8))
        #expect(program.comm.map(Array.init) == Array("sh".utf8))
        // 7 + 6 + 0 bytes fit in 13; the fourth argument would pass the limit, so it and all after it are left out.
        #expect(program.arguments.map { $0.map(Array.init) } == Array(argv.prefix(3)))
        let nameOnly = Lineage.Program(exe: nil as [UInt8]?, comm: Array("kworker/0:1".utf8), argv: nil as [[UInt8]]?, argvByteLimit: 4096)
        #expect(nameOnly.exe == nil && nameOnly.arguments == nil)
        #expect(nameOnly.comm.map(Array.init) == Array("kworker/0:1".utf8))
        let noArguments = Lineage.Program(exe: Array("/usr/bin/true".utf8), comm: nil as [UInt8]?, argv: [[UInt8]](), argvByteLimit: 4096)
        #expect(noArguments.comm == nil && noArguments.arguments.map { Array($0) }?.isEmpty == true)
        // Longer than PATH_MAX: only a crafted log says so, and the table keeps no more.
        let crafted = Lineage.Program(exe: [UInt8](repeating: 0x2F, count: 100_000), comm: [UInt8](repeating: 0x63, count: 5000),
                                      argv: [[UInt8]](), argvByteLimit: 4096)
        #expect(crafted.exe?.count == Lineage.Program.nameByteLimit && crafted.comm?.count == Lineage.Program.nameByteLimit)
    }

    @Test("the process memory stays within its cap, and what it forgets is counted")
    func bounded() throws {
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), lineage: ProcessLineage(depth: 2, capacity: 16), sink: sink)
        try OfflineParser(pipeline: pipeline, diagnostics: Diagnostics(quiet: true)).run(paths: [EventSelectionTests.corpus])
        let processes = Set(try Command.jsonLines(Data(sink.bytes)).compactMap { processObject($0)["pid"] as? Int })
        try #require(processes.count > 100)
        // Each eviction forgets an eighth of 16: two processes; all but at most 16 are forgotten.
        let counters = pipeline.snapshot()
        #expect(counters.ancestryEvictions >= UInt64(processes.count - 16))
        #expect(counters.ancestryProcesses > 0 && counters.ancestryProcesses <= 16, "\(counters.ancestryProcesses) remembered")
    }
}

@Suite("process ancestry from /proc")
struct ProcAncestryTests {
    @Test("on this host (--containers), processes that started before nodeaudit are ancestors: a live sleep and its shell")
    func runningProcesses() throws {
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "sleep 300 & echo $!; wait"]
        let output = Pipe()
        shell.standardOutput = output
        try shell.runWithStopSignalsUnblocked()
        defer {
            shell.terminate()
            shell.waitUntilExit()
        }
        let line = output.fileHandleForReading.availableData
        let sleepPID = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
        defer { kill(pid_t(sleepPID), SIGTERM) }
        // The shell names the child as soon as it has forked it: wait until the child is
        // sleep, arguments and all, before nodeaudit reads /proc.
        let execed = Wait.until(seconds: 10) {
            (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(sleepPID)/cmdline"))) == Data("sleep\u{0}300\u{0}".utf8)
        }
        try #require(execed, "the child never became sleep 300")
        let shellExe = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(shell.processIdentifier)/exe")
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-proc-ancestry-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        try (ProcessLabelTests.exec(1, pid: 4_000_000, ppid: sleepPID, exe: "/bin/child") + "\n").write(to: log, atomically: true, encoding: .utf8)
        let result = try NodeAuditBinary.run(["parse", "--quiet", "--containers", "--ancestry-depth", "2", log.path])
        try #require(result.status == 0, "\(result.stderr)")
        let process = processObject(try #require(try Command.jsonLines(result.stdout).first))
        let parent = try #require(process["parent"] as? [String: Any])
        #expect(parent["pid"] as? Int == sleepPID)
        #expect(parent["exe"] as? String == "/usr/bin/sleep")
        #expect(parent["args"] as? [String] == ["sleep", "300"])
        let ancestors = try #require(process["ancestors"] as? [[String: Any]])
        #expect(ancestors.first?["pid"] as? Int == Int(shell.processIdentifier))
        #expect(ancestors.first?["exe"] as? String == shellExe)
        #expect(ancestors.count == 2)
        let offline = try NodeAuditBinary.run(["parse", "--quiet", "--ancestry-depth", "2", log.path])
        let offlineParent = (processObject(try #require(try Command.jsonLines(offline.stdout).first))["parent"] as? [String: Any])
        #expect(offlineParent?["exe"] == nil, "without --containers the log is another host's: /proc is not read")
    }
}

/// Puts the processes of `pids` in one container, as attribution would, and marks those
/// of `runtime` as the container runtime's own.
private struct FixedContainer: EventEnricher {
    let pids: Set<UInt32>
    var runtime: Set<UInt32> = []
    func enrich(_ event: inout AuditEvent) {
        guard let pid = event.process?.pid else { return }
        if pids.contains(pid) { event.workload = Workload(container: .init(id: String(repeating: "c", count: 64))) }
        event.isRuntimeProcess = runtime.contains(pid)
    }
}

@Suite("process ancestry in containers")
struct ContainerAncestryTests {
    @Test("inside a container the ancestors end at its first process; the shim above it is the first process's parent only")
    func endsAtFirstProcess() throws {
        let tree = [
            (50, 1, "/usr/bin/containerd-shim-runc-v2"), (60, 50, "/usr/bin/init"), (61, 60, "/bin/sh"), (62, 61, "/usr/bin/curl"),
            (70, 50, "/usr/bin/host-helper"),
        ]
        let events = try ProcessLabelTests.run(tree, enrichers: [FixedContainer(pids: [60, 61, 62])],
                                               lineage: ProcessLineage(depth: 8, capacity: 100)).events.map(processObject)
        func ancestors(_ index: Int) -> [Int] { (events[index]["ancestors"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int } }
        func parentExe(_ index: Int) -> String? { (events[index]["parent"] as? [String: Any])?["exe"] as? String }
        #expect(parentExe(1) == "/usr/bin/containerd-shim-runc-v2" && ancestors(1) == [])
        #expect(parentExe(3) == "/bin/sh" && ancestors(3) == [60])
        #expect(parentExe(4) == "/usr/bin/containerd-shim-runc-v2" && ancestors(4) == [1])
    }

    @Test("a fork inside a container returns the child's pid in the container's namespace: it names no process of the node, whose tree stays as it was")
    func containerForkNamesNoNodeProcess() throws {
        func fork(_ serial: Int, pid: Int, ppid: Int, child: Int, exe: String) -> String {
            ProcessLabelTests.fork(serial, pid: pid, ppid: ppid, child: child, exe: exe)
        }
        let lines = [
            ProcessLabelTests.exec(1, pid: 50, ppid: 1, exe: "/usr/bin/containerd-shim-runc-v2"),
            ProcessLabelTests.exec(2, pid: 60, ppid: 50, exe: "/bin/sh"),       // the container's first process
            fork(3, pid: 60, ppid: 50, child: 7, exe: "/bin/sh"),               // its child: pid 7 in the container, 61 on the node
            ProcessLabelTests.exec(4, pid: 61, ppid: 60, exe: "/usr/bin/curl"),
            ProcessLabelTests.exec(5, pid: 7, ppid: 2, exe: "/usr/sbin/containerd"), // the node's pid 7, seen later
            fork(6, pid: 60, ppid: 50, child: 50, exe: "/bin/sh"),              // pid 50 in the container: the shim's on the node
            ProcessLabelTests.exec(7, pid: 70, ppid: 50, exe: "/usr/bin/host-helper"),
            ProcessLabelTests.exec(8, pid: 80, ppid: 7, exe: "/usr/bin/ctr"),
            fork(9, pid: 50, ppid: 1, child: 90, exe: "/usr/bin/containerd-shim-runc-v2"), // the node's forks are followed
            ProcessLabelTests.exec(10, pid: 90, ppid: 1, exe: "/usr/sbin/runc"),
        ]
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [FixedContainer(pids: [60, 61])], encoder: NativeJSONEncoder(),
                                     lineage: ProcessLineage(depth: 8, capacity: 64), sink: sink)
        for line in lines { try pipeline.add(try Fixtures.record(line)) }
        try pipeline.finish()
        let events = try Command.jsonLines(Data(sink.bytes)).map(processObject)
        try #require(events.count == lines.count)
        func parent(_ index: Int) -> [String: Any] { events[index]["parent"] as? [String: Any] ?? [:] }
        func ancestors(_ index: Int) -> [Int] { (events[index]["ancestors"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int } }
        #expect(parent(3)["pid"] as? Int == 60 && ancestors(3) == [], "curl's: \(parent(3)) \(ancestors(3))")
        #expect(parent(6)["exe"] as? String == "/usr/bin/containerd-shim-runc-v2", "the shim stays the shim: \(parent(6))")
        #expect(ancestors(6) == [1], "\(ancestors(6))")
        #expect(parent(7)["exe"] as? String == "/usr/sbin/containerd" && ancestors(7) == [2], "pid 7 is containerd: \(parent(7)) \(ancestors(7))")
        #expect(parent(9)["pid"] as? Int == 50 && parent(9)["exe"] as? String == "/usr/bin/containerd-shim-runc-v2",
                "a node process's fork still names the forker: \(parent(9))")
    }

    @Test("on the node, a fork whose pid names a process that started before it (a pid namespace outside containers) leaves that process as it was")
    func forkAimedAtAnOlderProcess() throws {
        let lines = [
            ProcessLabelTests.exec(1, pid: 30, ppid: 1, exe: "/usr/sbin/sshd"),
            ProcessLabelTests.exec(2, pid: 40, ppid: 1, exe: "/usr/bin/unshare"),
            ProcessLabelTests.fork(3, pid: 40, ppid: 1, child: 30, exe: "/usr/bin/unshare"), // aimed at sshd's pid
            ProcessLabelTests.exec(4, pid: 31, ppid: 30, exe: "/usr/bin/bash"),
            ProcessLabelTests.fork(5, pid: 40, ppid: 1, child: 41, exe: "/usr/bin/unshare"), // its real child
            ProcessLabelTests.exec(6, pid: 41, ppid: 1, exe: "/usr/bin/true"),
        ]
        let lineage = ProcessLineage(depth: 4, capacity: 64)
        lineage.startedBefore = { pid, _ in pid == 30 }
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [], encoder: NativeJSONEncoder(), lineage: lineage, sink: sink)
        for line in lines { try pipeline.add(try Fixtures.record(line)) }
        try pipeline.finish()
        let events = try Command.jsonLines(Data(sink.bytes)).map(processObject)
        try #require(events.count == lines.count)
        let login = events[3]["parent"] as? [String: Any]
        #expect(login?["exe"] as? String == "/usr/sbin/sshd" && (events[3]["ancestors"] as? [[String: Any]])?.first?["pid"] as? Int == 1,
                "sshd stays sshd: \(login ?? [:])")
        let adopted = events[5]["parent"] as? [String: Any]
        #expect(adopted?["pid"] as? Int == 40 && adopted?["exe"] as? String == "/usr/bin/unshare", "a new child is still followed: \(adopted ?? [:])")
    }

    @Test("runc's init stages read in the container's cgroup (a late read) are not its processes: the ancestors still end at the first process")
    func runtimeStagesAreNotAncestors() throws {
        // Exec events with their EXECVE record: what makes a process's program its own.
        func exec(_ serial: Int, pid: Int, ppid: Int, exe: String) -> String {
            ProcessLabelTests.exec(serial, pid: pid, ppid: ppid, exe: exe) + "\n"
                + "type=EXECVE msg=audit(1700000000.\(100 + serial):\(serial)): argc=1 a0=\"\(exe)\""
        }
        func fork(_ serial: Int, pid: Int, ppid: Int, child: Int, exe: String) -> String {
            ProcessLabelTests.fork(serial, pid: pid, ppid: ppid, child: child, exe: exe)
        }
        let lines = [
            exec(1, pid: 48, ppid: 40, exe: "/usr/sbin/runc"),          // runc run, on the host
            exec(2, pid: 56, ppid: 48, exe: "/usr/sbin/runc"),          // runc init
            exec(3, pid: 56, ppid: 48, exe: "/"),                       // its re-exec from runc's copy of itself
            fork(4, pid: 56, ppid: 48, child: 57, exe: "/"),
            fork(5, pid: 57, ppid: 48, child: 58, exe: "/"),
            exec(6, pid: 58, ppid: 1, exe: "/bin/busybox"),             // the container's first process, adopted by init
            exec(7, pid: 59, ppid: 58, exe: "/bin/busybox"),
            exec(8, pid: 60, ppid: 59, exe: "/bin/true"),
        ]
        let sink = MemorySink()
        let pipeline = EventPipeline(enrichers: [FixedContainer(pids: [56, 57, 58, 59, 60], runtime: [56, 57])], encoder: NativeJSONEncoder(),
                                     lineage: ProcessLineage(depth: 8, capacity: 64), sink: sink)
        for line in lines.flatMap({ $0.split(separator: "\n") }) { try pipeline.add(try Fixtures.record(String(line))) }
        try pipeline.finish()
        let events = try Command.jsonLines(Data(sink.bytes)).map(processObject)
        func ancestors(_ index: Int) -> [Int] { (events[index]["ancestors"] as? [[String: Any]] ?? []).compactMap { $0["pid"] as? Int } }
        let first = events[5]["parent"] as? [String: Any]
        #expect(first?["pid"] as? Int == 57 && ancestors(5) == [], "the first process's parent is the stage that forked it: \(first ?? [:])")
        #expect(ancestors(7) == [58], "\(ancestors(7))")
    }
}
