import AuditEvents
import AuditRecords
import Foundation
import Output
import Testing
import TestSupport

/// ECS output says the same as the native schema, event by event, over the real corpus:
/// the mapping is checked against nodeaudit's own reading, not against hand-written values.
@Suite("ECS output")
struct ECSMappingTests {
    static func run(_ format: String, _ file: String) throws -> [[String: Any]] {
        let result = try NodeAuditBinary.run(["parse", "--quiet", "--format", format, file])
        try #require(result.status == 0, "\(result.stderr)")
        return try Command.jsonLines(result.stdout)
    }

    /// An exec event of a process in a container of a pod on node-1, as `encoder` writes it.
    static func encodedInPod(_ encoder: ECSEncoder) throws -> [String: Any] {
        var event = AuditEvent(key: EventKey(stamp: AuditStamp(seconds: 1_800_000_000, milliseconds: 5, serial: 9), node: Array("node-1".utf8)[...]),
                               category: .exec, records: [], closeReason: .endOfEvent)
        event.workload = Workload(cgroup: "/kubepods/x",
                                  container: .init(id: String(repeating: "c", count: 64), runtime: "containerd", name: "app"),
                                  pod: .init(uid: "u-1", qosClass: "burstable", name: "web-0", namespace: "shop"))
        var writer = JSONWriter()
        encoder.encode(event, into: &writer)
        return try #require(try JSONSerialization.jsonObject(with: Data(writer.buffer)) as? [String: Any])
    }

    @Test("every corpus event maps: id, time, process, user, network peer, file, outcome, category, tags")
    func corpusMapping() throws {
        let file = Fixtures.corpusFile("exec-net-login.raw.log")
        let native = try Self.run("native", file)
        let ecs = try Self.run("ecs", file)
        try #require(native.count == ecs.count && native.count > 6000)
        let allowedCategories: Set<String> = ["authentication", "configuration", "driver", "file", "host", "iam", "network", "process", "session"]
        var checked = (network: 0, file: 0, exec: 0)
        for (n, e) in zip(native, ecs) {
            let event = try #require(e["event"] as? [String: Any])
            #expect(event["id"] as? String == n["id"] as? String)
            #expect(e["@timestamp"] as? String == n["time"] as? String)
            #expect(Set(event["category"] as? [String] ?? []).isSubset(of: allowedCategories))
            #expect(((e["nodeaudit"] as? [String: Any])?["category"] as? String) == n["category"] as? String)
            #expect(e["tags"] as? [String] == n["keys"] as? [String])
            let process = n["process"] as? [String: Any]
            let ecsProcess = e["process"] as? [String: Any]
            #expect(ecsProcess?["pid"] as? Int == process?["pid"] as? Int)
            #expect(ecsProcess?["executable"] as? String == process?["exe"] as? String)
            if let argv = process?["argv"] as? [String] {
                #expect(ecsProcess?["args"] as? [String] == argv)
                #expect(event["category"] as? [String] == ["process"] && event["type"] as? [String] == ["start"])
                checked.exec += 1
            }
            if let uid = (process?["uid"] as? [String: Any])?["id"] as? Int {
                #expect((e["user"] as? [String: Any])?["id"] as? String == String(uid))
            }
            if let success = (n["syscall"] as? [String: Any])?["success"] as? Bool {
                #expect(event["outcome"] as? String == (success ? "success" : "failure"))
            }
            if let socket = n["socket"] as? [String: Any], let ip = socket["address"] as? String {
                let peer = (e["destination"] ?? e["source"]) as? [String: Any]
                #expect(peer?["ip"] as? String == ip && peer?["port"] as? Int == socket["port"] as? Int)
                checked.network += 1
            }
            if let path = (n["paths"] as? [[String: Any]])?.first(where: { $0["nametype"] as? String != "PARENT" })?["name"] as? String {
                #expect((e["file"] as? [String: Any])?["path"] as? String == path)
                checked.file += 1
            }
        }
        #expect(checked.exec > 1000 && checked.network >= 5 && checked.file > 1000, "\(checked)")
    }

    @Test("container and pod become container.* and orchestrator.*; logins carry source.ip and the outcome")
    func workloadAndLogin() throws {
        let json = try Self.encodedInPod(ECSEncoder())
        #expect((json["container"] as? [String: Any])?["name"] as? String == "app")
        #expect((json["container"] as? [String: Any])?["runtime"] as? String == "containerd")
        let orchestrator = try #require(json["orchestrator"] as? [String: Any])
        #expect(orchestrator["type"] as? String == "kubernetes" && orchestrator["namespace"] as? String == "shop")
        #expect((orchestrator["resource"] as? [String: Any])?["name"] as? String == "web-0")
        #expect((json["host"] as? [String: Any])?["name"] as? String == "node-1")

        let login = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-ecs-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: login) }
        try "type=USER_LOGIN msg=audit(1800000000.200:8): pid=9 uid=0 auid=4294967295 ses=4294967295 msg='op=login acct=\"alice\" exe=\"/usr/sbin/sshd\" hostname=10.1.2.3 addr=10.1.2.3 terminal=sshd res=failed'\n"
            .write(to: login, atomically: true, encoding: .utf8)
        let failed = try #require(try Self.run("ecs", login.path).first)
        let ecsEvent = try #require(failed["event"] as? [String: Any])
        #expect(ecsEvent["category"] as? [String] == ["authentication", "session"])
        #expect(ecsEvent["outcome"] as? String == "failure")
        #expect((failed["source"] as? [String: Any])?["ip"] as? String == "10.1.2.3")
        #expect(((failed["user"] as? [String: Any])?["target"] as? [String: Any])?["name"] as? String == "alice")
    }
}
