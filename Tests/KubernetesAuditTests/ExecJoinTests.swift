import AuditEvents
import AuditRecords
import Foundation
import Output
import Testing
@testable import KubernetesAudit

/// Which stages are written, and what the exec request index answers.
@Suite("Stage selection and the exec request index")
struct ExecJoinTests {
    static let uri = "/api/v1/namespaces/shop/pods/web-0/exec?command=sh&container=app&stdin=true&tty=true"

    static func event(_ auditID: String, stage: String, uri: String = uri, verb: String = "create", code: Int? = 101,
                      at milliseconds: Int64 = 1_000_000, user: String = "alice") -> APIAuditEvent {
        var event = APIAuditEvent(apiVersion: "audit.k8s.io/v1", auditID: auditID, user: .init(username: user))
        event.stage = stage
        event.verb = verb
        event.requestURI = uri
        event.objectRef = .init(resource: "pods", namespace: "shop", name: "web-0", subresource: uri.contains("/exec") ? "exec" : nil)
        event.responseStatus = code.map { .init(code: $0) }
        event.requestReceivedMilliseconds = milliseconds
        event.stageMilliseconds = milliseconds + 50
        return event
    }

    @Test("completing: one event per auditID, ResponseStarted for an exec, ResponseComplete for the rest")
    func completing() {
        var selection = StageSelection(mode: .completing)
        let exec = ["RequestReceived", "ResponseStarted", "ResponseComplete"].map { Self.event("e", stage: $0) }
        #expect(exec.map { selection.selects($0) } == [false, true, false])
        let get = ["RequestReceived", "ResponseComplete"].map { Self.event("g", stage: $0, uri: "/api/v1/namespaces/shop/pods/web-0", verb: "get") }
        #expect(get.map { selection.selects($0) } == [false, true])
        // A policy that omits ResponseStarted: the exec's ResponseComplete is then written.
        let later = [Self.event("e2", stage: "ResponseComplete"), Self.event("p", stage: "Panic")].map { selection.selects($0) }
        #expect(later == [true, true])
    }

    @Test("all, one stage, and another text refused")
    func configured() throws {
        var all = try #require(StageSelection(setting: "all"))
        let stages = ["RequestReceived", "ResponseStarted", "ResponseComplete"].map { all.selects(Self.event("a", stage: $0)) }
        #expect(stages == [true, true, true])
        var one = try #require(StageSelection(setting: "RequestReceived"))
        let chosen = ["RequestReceived", "ResponseComplete"].map { one.selects(Self.event("a", stage: $0)) }
        #expect(chosen == [true, false])
        #expect(StageSelection(setting: "ResponseCompleted") == nil)
    }

    @Test("one request within the window names its user; each stage of it counts once")
    func found() {
        let index = ExecRequestIndex(windowMilliseconds: 10_000)
        for stage in ["RequestReceived", "ResponseStarted", "ResponseComplete"] { index.add(Self.event("one", stage: stage)) }
        let key = try! #require(PodExecRequest(requestURI: Self.uri)?.key)
        #expect(index.match(key: key, at: 1_009_000) == .found(Self.event("one", stage: "x").requester))
        #expect(index.match(key: key, at: 1_000_000 - 10_000) != .notFound)
        #expect(index.match(key: key, at: 1_010_001) == .notFound)
        #expect(index.match(key: "0000", at: 1_000_000) == .notFound)
    }

    @Test("live, a session read a minute behind the stream still waits for its request: twice the window counts from when it was read")
    func lateSessionWaits() throws {
        let index = ExecRequestIndex(windowMilliseconds: 10_000)
        let join = ExecRequesterJoin(index: index, waitsForRequests: true)
        let key = try #require(PodExecRequest(requestURI: Self.uri)?.key)
        let otherKey = try #require(PodExecRequest(requestURI: Self.uri.replacingOccurrences(of: "command=sh", with: "command=ls"))?.key)
        for (second, session, key) in [(1000, "answered", key), (1001, "never", otherKey)] {
            var event = AuditEvent(key: EventKey(stamp: AuditStamp(seconds: UInt64(second), milliseconds: 0, serial: 1), node: nil),
                                   category: .exec, records: [], closeReason: .endOfEvent)
            event.execSession = ExecSession(id: session, rootPID: 7, hasTTY: true)
            event.kubernetesExec = KubernetesExec(key: key)
            join.enrich(&event)
            #expect(event.kubernetesExec?.requester == nil, "no request read yet")
        }
        let readAt: Int64 = 1_000_000 + 60_000
        #expect(join.resolve(nowMilliseconds: readAt).isEmpty, "answered before its request had time to come")
        #expect(join.resolve(nowMilliseconds: readAt + 1000).isEmpty)
        // The request, received just before the first session began, is read now.
        index.add(Self.event("late", stage: "ResponseStarted", at: 999_500))
        let answered = join.resolve(nowMilliseconds: readAt + 1200)
        #expect(answered.map(\.session.id) == ["answered"] && answered.first?.answer == .found(Self.event("late", stage: "x").requester))
        // A session whose request never comes: `none` once twice the window passed since it was read.
        #expect(join.resolve(nowMilliseconds: readAt + 20_000).isEmpty)
        #expect(join.resolve(nowMilliseconds: readAt + 20_001).map(\.session.id) == ["never"])
    }

    @Test("two requests in the window are ambiguous; refused requests are never candidates")
    func ambiguousAndRefused() throws {
        let index = ExecRequestIndex(windowMilliseconds: 10_000)
        index.add(Self.event("first", stage: "ResponseStarted", at: 1_000_000))
        index.add(Self.event("second", stage: "ResponseStarted", at: 1_004_000, user: "bob"))
        #expect(!index.add(Self.event("denied", stage: "ResponseComplete", code: 403, at: 1_002_000, user: "mallory")))
        let key = try #require(PodExecRequest(requestURI: Self.uri)?.key)
        #expect(index.match(key: key, at: 1_002_000) == .ambiguous(auditIDs: ["first", "second"]))
        #expect(index.match(key: key, at: 1_013_000) == .found(Self.event("second", stage: "x", user: "bob").requester))
    }

    @Test("the index is bounded: past its capacity the oldest requests are forgotten")
    func bounded() throws {
        let index = ExecRequestIndex(windowMilliseconds: 10_000, capacity: 100)
        for n in 0..<250 { index.add(Self.event("r\(n)", stage: "ResponseStarted", at: Int64(n) * 100_000)) }
        #expect(index.count == 100)
        let key = try #require(PodExecRequest(requestURI: Self.uri)?.key)
        #expect(index.match(key: key, at: 0) == .notFound)
        #expect(index.match(key: key, at: 249 * 100_000) != .notFound)
    }
}

@Suite("k8s_api events out")
struct APIEventEncoderTests {
    @Test("a request object that does not fit is left out and marked with its size; a hostile event is cut to the bound")
    func bounds() throws {
        var event = ExecJoinTests.event("big", stage: "ResponseComplete")
        event.requestObject = .object([("data", .string(String(repeating: "x", count: 20_000)))])
        for ecs in [false, true] {
            let encoder = APIEventEncoder(ecs: ecs, staticFields: .none, maxEventBytes: 8192)
            let line = encoder.encode(event)
            let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            let fields = ecs ? (object["kubernetes"] as! [String: Any])["audit"] as! [String: Any] : object["k8s_api"] as! [String: Any]
            #expect(fields[ecs ? "requestObjectOmittedBytes" : "request_object_omitted_bytes"] as? Int == 20_011, "\(ecs)")
            #expect(line.count <= 8192)
        }
        // Thousands of annotations and groups, each long: reduced, then summarized, marked.
        var hostile = ExecJoinTests.event("hostile", stage: "ResponseComplete")
        hostile.annotations = (0..<5000).map { ("a\($0)", String(repeating: "v", count: 100)) }
        hostile.user.groups = (0..<5000).map { "group-\($0)-" + String(repeating: "g", count: 50) }
        hostile.userAgent = String(repeating: "u", count: 1_000_000)
        for ecs in [false, true] {
            let line = APIEventEncoder(ecs: ecs, staticFields: .none, maxEventBytes: 16384).encode(hostile)
            let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
            #expect(line.count <= 16384 && object["truncated"] as? Bool == true && (object["original_bytes"] as? Int ?? 0) > 500_000)
        }
    }

    @Test("an exec request's event carries its key, argv, container, stdin and tty, in both schemas")
    func execRequest() throws {
        let event = ExecJoinTests.event("e", stage: "ResponseStarted")
        let key = try #require(event.execRequest?.key)
        for ecs in [false, true] {
            let object = try JSONSerialization.jsonObject(with: Data(APIEventEncoder(ecs: ecs, staticFields: .none, maxEventBytes: 65536).encode(event))) as! [String: Any]
            let holder = ecs ? object["nodeaudit"] as! [String: Any] : object
            let exec = try #require((holder["k8s"] as? [String: Any])?["exec"] as? [String: Any])
            #expect(exec["key"] as? String == key && exec["command"] as? [String] == ["sh"] && exec["container"] as? String == "app")
            #expect(exec["stdin"] as? Bool == true && exec["tty"] as? Bool == true && exec["kind"] as? String == "exec")
        }
    }
}
