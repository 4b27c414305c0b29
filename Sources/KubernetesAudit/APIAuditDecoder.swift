/// Reads one line (or one webhook body) of the API server's audit stream into events:
/// an `Event` or an `EventList`, as the log and webhook backends write them, and the
/// wrappers cloud providers export them in (AKS's `records[].properties.log`, EKS's
/// CloudWatch `logEvents[].message`, GKE's Cloud Audit Logs `protoPayload`).
package enum APIAuditDecoder {
    package enum Failure: Error, Equatable, CustomStringConvertible {
        case malformedJSON(JSONParser.Failure)
        case unknownAPIVersion(String)
        case notAnAuditEvent(String)
        case missingAuditID

        package var description: String {
            switch self {
            case .malformedJSON(let failure): return "not JSON: \(failure)"
            case .unknownAPIVersion(let version):
                return "apiVersion \(version.debugDescription) is not audit.k8s.io/v1 or v1beta1"
            case .notAnAuditEvent(let kind): return "not an API audit event (\(kind))"
            case .missingAuditID: return "an audit event without auditID"
            }
        }
    }

    package static let apiVersions: Set<String> = ["audit.k8s.io/v1", "audit.k8s.io/v1beta1"]

    package static func decode<C: Collection>(_ bytes: C) throws(Failure) -> [APIAuditEvent] where C.Element == UInt8 {
        let value: JSONValue
        do throws(JSONParser.Failure) {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .malformedJSON(error)
        }
        return try events(in: value, wrapped: 0)
    }

    /// The events a JSON value holds; `wrapped` counts the wrappers already opened (an
    /// export inside an export is not followed forever).
    private static func events(in value: JSONValue, wrapped: Int) throws(Failure) -> [APIAuditEvent] {
        guard value.isObject else { throw .notAnAuditEvent("a JSON value that is not an object") }
        if let kind = value["kind"]?.string {
            switch kind {
            case "Event": return [try event(value)]
            case "EventList":
                try checkVersion(value)
                var events: [APIAuditEvent] = []
                for item in value["items"]?.array ?? [] { events.append(try event(item, listVersion: value["apiVersion"]?.string)) }
                return events
            default: throw .notAnAuditEvent("kind \(kind.debugDescription)")
            }
        }
        guard wrapped < 3 else { throw .notAnAuditEvent("wrapped more than three times") }
        // AKS (diagnostic settings): {"records": [{"properties": {"log": "<event JSON>"}}]} or one record per line.
        // Diagnostic settings share a batch between categories: records of others (activity
        // logs, kube-apiserver's own log) are passed over.
        if let records = value["records"]?.array {
            var found: [APIAuditEvent] = []
            for record in records where record["category"].map({ ["kube-audit", "kube-audit-admin"].contains($0.string ?? "") }) ?? true {
                found += try events(in: record, wrapped: wrapped + 1)
            }
            guard !found.isEmpty || records.isEmpty else { throw .notAnAuditEvent("records without an audit event") }
            return found
        }
        if let log = value["properties"]?["log"]?.string { return try events(inText: log, wrapped: wrapped) }
        // EKS (CloudWatch Logs): a subscription's `logEvents`, or `aws logs filter-log-events`'
        // `events`, each with the event as its `message`.
        if let entries = (value["logEvents"] ?? value["events"])?.array {
            var found: [APIAuditEvent] = []
            for entry in entries {
                guard let message = entry["message"]?.string else { throw .notAnAuditEvent("a CloudWatch entry without message") }
                found += try events(inText: message, wrapped: wrapped)
            }
            return found
        }
        // GKE (Cloud Audit Logs): the event as a google.cloud.audit.AuditLog.
        if let payload = value["protoPayload"], payload["@type"]?.string == "type.googleapis.com/google.cloud.audit.AuditLog" {
            return [try GKEAuditLog.event(entry: value, payload: payload)]
        }
        // Exports that keep the event but drop `kind` (some log shippers).
        if value["auditID"] != nil, value["stage"] != nil { return [try event(value)] }
        throw .notAnAuditEvent("an object without kind, records, properties.log, logEvents or protoPayload")
    }

    /// The events of a wrapper's string that holds an event's JSON.
    private static func events(inText text: String, wrapped: Int) throws(Failure) -> [APIAuditEvent] {
        let inner: JSONValue
        do throws(JSONParser.Failure) {
            inner = try JSONParser.parse(Array(text.utf8))
        } catch {
            throw .malformedJSON(error)
        }
        return try events(in: inner, wrapped: wrapped + 1)
    }

    private static func checkVersion(_ value: JSONValue, listVersion: String? = nil) throws(Failure) {
        let version = value["apiVersion"]?.string ?? listVersion ?? "audit.k8s.io/v1"
        guard apiVersions.contains(version) else { throw .unknownAPIVersion(version) }
    }

    private static func event(_ value: JSONValue, listVersion: String? = nil) throws(Failure) -> APIAuditEvent {
        try checkVersion(value, listVersion: listVersion)
        guard let auditID = value["auditID"]?.string, !auditID.isEmpty else { throw .missingAuditID }
        var event = APIAuditEvent(apiVersion: value["apiVersion"]?.string ?? listVersion ?? "audit.k8s.io/v1", auditID: auditID,
                                  user: userInfo(value["user"]) ?? APIAuditEvent.UserInfo())
        event.level = value["level"]?.string
        event.stage = value["stage"]?.string
        event.requestURI = value["requestURI"]?.string
        event.verb = value["verb"]?.string
        event.impersonatedUser = userInfo(value["impersonatedUser"])
        event.sourceIPs = value["sourceIPs"]?.strings ?? []
        event.userAgent = value["userAgent"]?.string
        if let reference = value["objectRef"], reference.isObject {
            event.objectRef = APIAuditEvent.ObjectReference(
                resource: reference["resource"]?.string, namespace: reference["namespace"]?.string, name: reference["name"]?.string,
                uid: reference["uid"]?.string, apiGroup: reference["apiGroup"]?.string, apiVersion: reference["apiVersion"]?.string,
                resourceVersion: reference["resourceVersion"]?.string, subresource: reference["subresource"]?.string)
        }
        if let status = value["responseStatus"], status.isObject {
            event.responseStatus = APIAuditEvent.Status(code: status["code"]?.integer, status: status["status"]?.string,
                                                        reason: status["reason"]?.string, message: status["message"]?.string,
                                                        details: status["details"])
        }
        event.requestObject = value["requestObject"].flatMap { $0 == .null ? nil : $0 }
        event.responseObject = value["responseObject"].flatMap { $0 == .null ? nil : $0 }
        // v1beta1 also dates the event by `timestamp` (its stage time).
        event.requestReceivedTimestamp = value["requestReceivedTimestamp"]?.string
        event.stageTimestamp = value["stageTimestamp"]?.string ?? value["timestamp"]?.string
        event.requestReceivedMilliseconds = event.requestReceivedTimestamp.flatMap(RFC3339.milliseconds)
        event.stageMilliseconds = event.stageTimestamp.flatMap(RFC3339.milliseconds)
        if case .object(let members) = value["annotations"] ?? .null {
            event.annotations = members.compactMap { name, value in value.string.map { (name, $0) } }
        }
        return event
    }

    private static func userInfo(_ value: JSONValue?) -> APIAuditEvent.UserInfo? {
        guard let value, value.isObject else { return nil }
        var info = APIAuditEvent.UserInfo(username: value["username"]?.string, uid: value["uid"]?.string, groups: value["groups"]?.strings ?? [])
        if case .object(let members) = value["extra"] ?? .null {
            info.extra = members.map { ($0.0, $0.1.strings) }
        }
        return info
    }
}
