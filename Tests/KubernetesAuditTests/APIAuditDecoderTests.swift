import Foundation
import Output
import Testing
import TestSupport
@testable import KubernetesAudit

/// API audit events as kubeadm, EKS, AKS and GKE clusters export them (Tests/Fixtures/k8s-audit,
/// written to the shapes of public test data), decoded and written without losing a field
/// the audit.k8s.io Event schema names.
@Suite("API audit events in")
struct APIAuditDecoderTests {
    static let directory = Fixtures.repositoryRoot.appendingPathComponent("Tests/Fixtures/k8s-audit")

    static func lines(_ file: String) throws -> [String] {
        try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).split(separator: "\n").map(String.init)
    }

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    /// Every field of the Event schema, and where the native schema writes it (under `k8s_api`).
    static let nativeNames: [String: String] = [
        "level": "level", "auditID": "audit_id", "stage": "stage", "requestURI": "request_uri", "verb": "verb", "user": "user",
        "impersonatedUser": "impersonated_user", "sourceIPs": "source_ips", "userAgent": "user_agent", "objectRef": "object_ref",
        "responseStatus": "response_status", "requestObject": "request_object", "responseObject": "response_object",
        "requestReceivedTimestamp": "request_received", "stageTimestamp": "stage_time", "annotations": "annotations",
        "apiVersion": "api_version",
    ]
    static let objectRefNames = ["resource": "resource", "namespace": "namespace", "name": "name", "uid": "uid", "apiGroup": "api_group",
                                 "apiVersion": "api_version", "resourceVersion": "resource_version", "subresource": "subresource"]

    /// The Event objects a fixture line holds, unwrapped by the test itself.
    static func originalEvents(_ line: [String: Any]) throws -> [[String: Any]] {
        if line["kind"] as? String == "EventList" { return line["items"] as! [[String: Any]] }
        if let records = line["records"] as? [[String: Any]] {
            return try records.map { try json(($0["properties"] as! [String: Any])["log"] as! String) }
        }
        if let entries = line["logEvents"] as? [[String: Any]] { return try entries.map { try json($0["message"] as! String) } }
        return [line]
    }

    @Test("kubeadm, v1beta1, webhook EventList, EKS and AKS exports: every schema field written, with its value",
          arguments: ["kubeadm-audit.log", "v1beta1-audit.log", "webhook-eventlist.json", "eks-cloudwatch.json", "aks-diagnostics.json"])
    func noFieldLost(file: String) throws {
        let encoder = APIEventEncoder(ecs: false, staticFields: .none, maxEventBytes: 1 << 20)
        var checked = 0
        for line in try Self.lines(file) {
            let originals = try Self.originalEvents(try Self.json(line))
            let decoded = try APIAuditDecoder.decode(Array(line.utf8))
            #expect(decoded.count == originals.count)
            for (original, event) in zip(originals, decoded) {
                let written = try Self.json(String(decoding: encoder.encode(event), as: UTF8.self))
                let fields = try #require(written["k8s_api"] as? [String: Any])
                for (name, value) in original where !["kind", "metadata", "timestamp"].contains(name) {
                    let nativeName = try #require(Self.nativeNames[name], "\(file): the schema field \(name) has no place in k8s_api")
                    var expected = value
                    if name == "objectRef" {
                        expected = Dictionary(uniqueKeysWithValues: (value as! [String: Any]).map { (Self.objectRefNames[$0.key]!, $0.value) })
                    }
                    if name == "responseStatus" { expected = (value as! [String: Any]).filter { $0.key != "metadata" } }
                    let found: Any = fields[nativeName] ?? NSNull()
                    let message = "\(file): \(name): \(found) is not \(expected)"
                    #expect(NSDictionary(dictionary: [name: found]).isEqual(to: [name: expected]), "\(message)")
                }
                // v1beta1's `timestamp` is its stage time.
                if let timestamp = original["timestamp"] as? String, original["stageTimestamp"] == nil {
                    #expect(fields["stage_time"] as? String == timestamp)
                }
                checked += 1
            }
        }
        #expect(checked > 0)
    }

    @Test("GKE's Cloud Audit Logs entries: user, source, agent, verb, object, decision and outcome")
    func gke() throws {
        let events = try Self.lines("gke-cloud-audit.json").flatMap { try APIAuditDecoder.decode(Array($0.utf8)) }
        try #require(events.count == 2)
        let exec = events[0]
        #expect(exec.user.username == "erin@example.com" && exec.sourceIPs == ["198.51.100.23"] && exec.verb == "create")
        #expect(exec.userAgent == "kubectl/v1.30.1 (linux/amd64) kubernetes/6911225")
        #expect(exec.objectRef == APIAuditEvent.ObjectReference(resource: "pods", namespace: "web", name: "frontend-0", apiGroup: "",
                                                                 apiVersion: "v1", subresource: "exec"))
        #expect(exec.decision == "allow" && exec.responseStatus?.code == 200 && exec.auditID == "8f2e1c4a-3b5d-4e6f-9a0b-1c2d3e4f5a6b")
        #expect(exec.stageMilliseconds == 1_787_226_302_313)
        let patch = events[1]
        #expect(patch.objectRef?.apiGroup == "apps" && patch.verb == "patch" && patch.responseStatus?.code == 403 && patch.wasRefused)
    }

    @Test("bad input: each kind refused with its reason", arguments: [
        ("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v2\",\"auditID\":\"a\"}", "unknownAPIVersion"),
        ("{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"stage\":\"ResponseComplete\"}", "missingAuditID"),
        ("{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}", "notAnAuditEvent"),
        ("[1,2]", "notAnAuditEvent"),
        ("{\"kind\":\"Event\"", "malformedJSON"),
        ("{\"records\":[{\"category\":\"kube-audit\",\"properties\":{\"log\":\"{oops\"}}]}", "malformedJSON"),
        ("{\"records\":[{\"category\":\"kube-apiserver\",\"properties\":{\"log\":\"I1206 started\"}}]}", "notAnAuditEvent"),
    ])
    func refusals(text: String, kind: String) {
        do throws(APIAuditDecoder.Failure) {
            _ = try APIAuditDecoder.decode(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            let label = switch error {
            case .malformedJSON: "malformedJSON"
            case .unknownAPIVersion: "unknownAPIVersion"
            case .notAnAuditEvent: "notAnAuditEvent"
            case .missingAuditID: "missingAuditID"
            }
            #expect(label == kind, "\(text): \(error)")
        }
    }

    @Test("RFC 3339 times to milliseconds, with offsets and any number of fraction digits")
    func times() {
        #expect(RFC3339.milliseconds("1970-01-01T00:00:00Z") == 0)
        #expect(RFC3339.milliseconds("2026-12-06T19:00:00.123456Z") == 1_796_583_600_123)
        #expect(RFC3339.milliseconds("2024-02-29T23:59:59+05:30") == 1_709_231_399_000)
        #expect(RFC3339.milliseconds("2024-02-29T23:59:59.5-01:00") == 1_709_254_799_500)
        for bad in ["2024-13-01T00:00:00Z", "2024-02-29 23:59:59", "2024-02-29T23:59:59", "2024-02-29T23:59:59.Z", "x"] {
            #expect(RFC3339.milliseconds(bad) == nil, "\(bad)")
        }
    }
}
