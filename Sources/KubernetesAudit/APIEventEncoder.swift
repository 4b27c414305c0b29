import AuditEvents
import Output

/// Writes a `k8s_api` event as one line, in the native schema (docs/events.md) or in ECS
/// (docs/ecs.md), bounded like node events: strings are cut at `maxStringBytes`, the
/// request and response objects are kept only while the line stays within
/// `maxEventBytes` (else left out and marked with their size), and a line still too long
/// is written reduced, then as its summary, marked `truncated` with its `original_bytes`.
package struct APIEventEncoder: Sendable {
    package var ecs: Bool
    package var staticFields: StaticFields
    package var maxEventBytes: Int
    package static let maxStringBytes = 8192

    /// How much of the event a line carries.
    private enum Detail: Comparable {
        /// Without maps and objects (annotations, user.extra, status details, bodies),
        /// lists cut at 32 items, strings at 1,024 bytes.
        case summary
        case reduced
        case full

        var stringBytes: Int { self == .full ? APIEventEncoder.maxStringBytes : 1024 }
        var listItems: Int { self == .full ? Int.max : 32 }
    }

    package init(ecs: Bool, staticFields: StaticFields, maxEventBytes: Int) {
        self.ecs = ecs
        self.staticFields = staticFields
        self.maxEventBytes = maxEventBytes
    }

    /// The event's line, newline included.
    package func encode(_ event: APIAuditEvent) -> [UInt8] {
        var w = JSONWriter(capacity: 2048)
        let execRequest = event.execRequest
        write(event, execRequest, .full, into: &w)
        let original = w.count
        guard original > maxEventBytes else { return w.buffer }
        for detail in [Detail.reduced, .summary] {
            w.removeAll()
            write(event, execRequest, detail, into: &w)
            if w.count <= maxEventBytes - 64 { break }
        }
        if w.reopenLastObject() {
            w.key("truncated")
            w.bool(true)
            w.key("original_bytes")
            w.number(original)
            w.endObject()
            w.newline()
        }
        return w.buffer
    }

    private func write(_ event: APIAuditEvent, _ execRequest: PodExecRequest?, _ detail: Detail, into w: inout JSONWriter) {
        w.beginObject()
        let id = "k8s-api/\(event.auditID)/\(event.stage ?? "")"
        if ecs {
            writeTime(event.milliseconds, key: "@timestamp", into: &w)
            writeECSTopLevel(event, id: id, detail, into: &w)
            w.key("kubernetes")
            w.beginObject()
            w.key("audit")
            writeAuditFields(event, detail, into: &w)
            w.endObject()
            w.key("nodeaudit")
            w.beginObject()
            w.member("category", "k8s_api")
            if let execRequest { writeExecRequest(execRequest, detail, into: &w) }
            w.endObject()
        } else {
            w.member("id", id)
            writeTime(event.milliseconds, key: "time", into: &w)
            w.member("category", "k8s_api")
            if let cluster = staticFields.clusterName { w.member("cluster", cluster) }
            w.staticFields("fields", staticFields.fields)
            w.key("k8s_api")
            writeAuditFields(event, detail, into: &w)
            if let execRequest {
                w.key("k8s")
                w.beginObject()
                writeExecRequest(execRequest, detail, into: &w)
                w.endObject()
            }
        }
        w.endObject()
        w.newline()
    }

    /// The ECS fields outside `kubernetes.audit`: event, user, source, related, user_agent,
    /// orchestrator, labels.
    private func writeECSTopLevel(_ event: APIAuditEvent, id: String, _ detail: Detail, into w: inout JSONWriter) {
        w.key("ecs")
        w.beginObject()
        w.member("version", "8.11.0")
        w.endObject()
        // The verb is the API's, bounded like every string of the event.
        w.ecsEvent(id: id, category: "api", type: Self.eventType(verb: event.verb), action: event.verb.map { bounded($0, detail) },
                   outcome: event.responseStatus?.code.map { $0 < 400 ? "success" : "failure" } ?? "unknown",
                   module: "kubernetes", dataset: "kubernetes.audit_logs")
        if event.user.username != nil || event.impersonatedUser?.username != nil {
            w.key("user")
            w.beginObject()
            text("name", event.user.username, detail, &w)
            text("id", event.user.uid, detail, &w)
            if let impersonated = event.impersonatedUser?.username {
                w.key("effective")
                w.beginObject()
                text("name", impersonated, detail, &w)
                w.endObject()
            }
            w.endObject()
        }
        w.objectOfOne("source", "ip", event.sourceIPs.first.map { bounded($0, detail) })
        let users = [event.user.username, event.impersonatedUser?.username].compactMap { $0 }
        if !event.sourceIPs.isEmpty || !users.isEmpty {
            w.key("related")
            w.beginObject()
            strings("ip", event.sourceIPs, detail, &w)
            strings("user", Array(Set(users)).sorted(), detail, &w)
            w.endObject()
        }
        w.objectOfOne("user_agent", "original", event.userAgent.map { bounded($0, detail) })
        w.ecsOrchestrator(clusterName: staticFields.clusterName, isKubernetes: true)
        w.staticFields("labels", staticFields.fields)
    }

    /// The event's own fields: native `k8s_api` (snake case) or ECS `kubernetes.audit`
    /// (the schema's names, as Elastic's Kubernetes integration writes them).
    private func writeAuditFields(_ event: APIAuditEvent, _ detail: Detail, into w: inout JSONWriter) {
        let key = { (native: StaticString, ecs: StaticString) in self.ecs ? ecs : native }
        w.beginObject()
        text(key("audit_id", "auditID"), event.auditID, detail, &w)
        text(key("api_version", "apiVersion"), event.apiVersion, detail, &w)
        text("stage", event.stage, detail, &w)
        text("level", event.level, detail, &w)
        text("verb", event.verb, detail, &w)
        if detail > .summary { text(key("request_uri", "requestURI"), event.requestURI, detail, &w) }
        writeUser(key("user", "user"), event.user, detail, into: &w)
        if let impersonated = event.impersonatedUser { writeUser(key("impersonated_user", "impersonatedUser"), impersonated, detail, into: &w) }
        strings(key("source_ips", "sourceIPs"), event.sourceIPs, detail, &w)
        text(key("user_agent", "userAgent"), event.userAgent, detail, &w)
        if let reference = event.objectRef {
            w.key(key("object_ref", "objectRef"))
            w.beginObject()
            text("resource", reference.resource, detail, &w)
            text("subresource", reference.subresource, detail, &w)
            text("namespace", reference.namespace, detail, &w)
            text("name", reference.name, detail, &w)
            text("uid", reference.uid, detail, &w)
            text(key("api_group", "apiGroup"), reference.apiGroup, detail, &w)
            text(key("api_version", "apiVersion"), reference.apiVersion, detail, &w)
            text(key("resource_version", "resourceVersion"), reference.resourceVersion, detail, &w)
            w.endObject()
        }
        if let status = event.responseStatus { writeStatus(status, key: key("response_status", "responseStatus"), detail, into: &w) }
        if !ecs {
            text("decision", event.decision, detail, &w)
            text("decision_reason", event.decisionReason, detail, &w)
        }
        if detail == .full { writeAnnotations(event.annotations, into: &w) }
        text(key("request_received", "requestReceivedTimestamp"), event.requestReceivedTimestamp, detail, &w)
        text(key("stage_time", "stageTimestamp"), event.stageTimestamp, detail, &w)
        if detail == .full { writeBodies(event, into: &w) }
        w.endObject()
    }

    /// ECS's event.type for an API verb.
    static func eventType(verb: String?) -> String {
        switch verb {
        case "create": return "creation"
        case "delete", "deletecollection": return "deletion"
        case "update", "patch": return "change"
        case "get", "list", "watch": return "access"
        default: return "info"
        }
    }

    /// `exec`: what a pods/exec or pods/attach request asks for, with its key.
    private func writeExecRequest(_ request: PodExecRequest, _ detail: Detail, into w: inout JSONWriter) {
        if ecs {
            w.key("k8s")
            w.beginObject()
        }
        w.key("exec")
        w.beginObject()
        if let key = request.key { w.member("key", key) }
        w.member("kind", request.kind.rawValue)
        text("namespace", request.namespace, detail, &w)
        text("pod", request.pod, detail, &w)
        text("container", request.container, detail, &w)
        if let command = request.execCommand, detail > .summary {
            strings("command", command.shown, detail, &w)
            if command.isCut { w.key("command_cut"); w.bool(true) }
        }
        w.key("stdin")
        w.bool(request.stdin)
        w.key("tty")
        w.bool(request.tty)
        w.endObject()
        if ecs { w.endObject() }
    }

    private func writeUser(_ name: StaticString, _ user: APIAuditEvent.UserInfo, _ detail: Detail, into w: inout JSONWriter) {
        w.key(name)
        w.beginObject()
        text("username", user.username, detail, &w)
        text("uid", user.uid, detail, &w)
        strings("groups", user.groups, detail, &w)
        if !user.extra.isEmpty, detail == .full {
            w.key("extra")
            w.beginObject()
            for (name, values) in user.extra {
                var name = bounded(name, detail)
                name.withUTF8 { w.key(bytes: $0) }
                w.beginArray()
                for value in values { w.string(bounded(value, detail)) }
                w.endArray()
            }
            w.endObject()
        }
        w.endObject()
    }

    private func writeStatus(_ status: APIAuditEvent.Status, key: StaticString, _ detail: Detail, into w: inout JSONWriter) {
        w.key(key)
        w.beginObject()
        if let code = status.code { w.key("code"); w.number(code) }
        text("status", status.status, detail, &w)
        text("reason", status.reason, detail, &w)
        text("message", status.message, detail, &w)
        if let details = status.details, detail == .full {
            w.key("details")
            writeObject(details, into: &w)
        }
        w.endObject()
    }

    private func writeAnnotations(_ annotations: [(String, String)], into w: inout JSONWriter) {
        guard !annotations.isEmpty else { return }
        w.key("annotations")
        w.beginObject()
        for (name, value) in annotations {
            var name = bounded(name, .full)
            name.withUTF8 { w.key(bytes: $0) }
            w.string(bounded(value, .full))
        }
        w.endObject()
    }

    /// The request and response objects, each while the line stays within the bound;
    /// one left out is marked with its size (`request_object_omitted_bytes`).
    private func writeBodies(_ event: APIAuditEvent, into w: inout JSONWriter) {
        let bodies: [(StaticString, StaticString, JSONValue?)] = ecs
            ? [("requestObject", "requestObjectOmittedBytes", event.requestObject),
               ("responseObject", "responseObjectOmittedBytes", event.responseObject)]
            : [("request_object", "request_object_omitted_bytes", event.requestObject),
               ("response_object", "response_object_omitted_bytes", event.responseObject)]
        for (key, omittedKey, body) in bodies {
            guard let body else { continue }
            var encoded = JSONWriter(capacity: 1024)
            encoded.value(body)
            // Room for the rest of the line (the exec request, closing brackets, escapes in ECS' text).
            if encoded.count + (ecs ? encoded.count / 4 : 0) <= maxEventBytes - w.count - 1024 {
                w.key(key)
                writeObject(body, into: &w)
            } else {
                w.key(omittedKey)
                w.number(encoded.count)
            }
        }
    }

    /// A JSON object of the API's own (a body, a status's details): as it is in the native
    /// schema; as JSON text in ECS, where no index mapping can foresee its fields.
    private func writeObject(_ value: JSONValue, into w: inout JSONWriter) {
        guard ecs else { return w.value(value) }
        var encoded = JSONWriter(capacity: 1024)
        encoded.value(value)
        encoded.withBytes { w.string($0) }
    }

    private func writeTime(_ milliseconds: Int64?, key: StaticString, into w: inout JSONWriter) {
        guard let milliseconds, milliseconds >= 0 else { return }
        w.key(key)
        w.rfc3339(epochMilliseconds: UInt64(milliseconds))
    }

    private func text(_ key: StaticString, _ value: String?, _ detail: Detail, _ w: inout JSONWriter) {
        guard let value else { return }
        w.key(key)
        w.string(bounded(value, detail))
    }

    private func strings(_ key: StaticString, _ values: [String], _ detail: Detail, _ w: inout JSONWriter) {
        guard !values.isEmpty else { return }
        w.key(key)
        w.beginArray()
        for value in values.prefix(detail.listItems) { w.string(bounded(value, detail)) }
        w.endArray()
    }

    /// The string, or its first bytes and `…` (a character cut in two becomes U+FFFD).
    private func bounded(_ value: String, _ detail: Detail) -> String {
        guard value.utf8.count > detail.stringBytes else { return value }
        return String(decoding: value.utf8.prefix(detail.stringBytes), as: UTF8.self) + "…"
    }
}

extension JSONWriter {
    /// A time in milliseconds since the epoch, as an RFC 3339 string (UTC, milliseconds).
    mutating func rfc3339(epochMilliseconds: UInt64) {
        Timestamp.withRFC3339(seconds: epochMilliseconds / 1000, milliseconds: UInt16(epochMilliseconds % 1000)) { string($0) }
    }

    /// A JSON value re-encoded (strings escaped again, numbers as they were written).
    mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .number(let text): Array(text.utf8).withUnsafeBufferPointer { rawValue($0) }
        case .string(let text): string(text)
        case .array(let values):
            beginArray()
            for element in values { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for (name, member) in members {
                var name = name
                name.withUTF8 { key(bytes: $0) }
                self.value(member)
            }
            endObject()
        }
    }
}
