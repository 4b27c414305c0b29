/// GKE exports the API server's audit events as Cloud Audit Logs entries: the user in
/// `authenticationInfo`, the request's origin in `requestMetadata`, the verb at the end of
/// `methodName` (`io.k8s.core.v1.pods.exec.create`) and the object in `resourceName`
/// (`core/v1/namespaces/NS/pods/NAME/exec`). No requestURI: an exec's command is not in them.
enum GKEAuditLog {
    static func event(entry: JSONValue, payload: JSONValue) throws(APIAuditDecoder.Failure) -> APIAuditEvent {
        let operation = entry["operation"]
        guard let auditID = operation?["id"]?.string ?? entry["insertId"]?.string, !auditID.isEmpty else { throw .missingAuditID }
        var event = APIAuditEvent(apiVersion: "audit.k8s.io/v1", auditID: auditID,
                                  user: APIAuditEvent.UserInfo(username: payload["authenticationInfo"]?["principalEmail"]?.string))
        event.level = "Metadata"
        // An operation's last entry completes it; entries without an operation stand alone.
        event.stage = operation?["last"] == .bool(false) ? "RequestReceived" : "ResponseComplete"
        let method = payload["methodName"]?.string ?? ""
        event.verb = method.split(separator: ".").last.map(String.init)
        event.objectRef = reference(payload["resourceName"]?.string)
        if let caller = payload["requestMetadata"]?["callerIp"]?.string { event.sourceIPs = [caller] }
        event.userAgent = payload["requestMetadata"]?["callerSuppliedUserAgent"]?.string
        if let status = payload["status"], status.isObject {
            // google.rpc.Status: code 0 (or none) is success; others are gRPC codes, not HTTP.
            let code = status["code"]?.integer ?? 0
            event.responseStatus = APIAuditEvent.Status(code: code == 0 ? 200 : httpCode(grpc: code),
                                                        status: code == 0 ? "Success" : "Failure",
                                                        message: status["message"]?.string)
        }
        event.requestObject = payload["request"]
        event.responseObject = payload["response"]
        event.stageTimestamp = entry["timestamp"]?.string
        event.stageMilliseconds = event.stageTimestamp.flatMap(RFC3339.milliseconds)
        if case .object(let labels) = entry["labels"] ?? .null {
            event.annotations = labels.compactMap { name, value in value.string.map { (name, $0) } }
        }
        return event
    }

    /// `GROUP/VERSION[/namespaces/NS]/RESOURCE[/NAME[/SUBRESOURCE]]`, `core` for the core group.
    private static func reference(_ resourceName: String?) -> APIAuditEvent.ObjectReference? {
        guard let parts = resourceName?.split(separator: "/").map(String.init), parts.count >= 3 else { return nil }
        var reference = APIAuditEvent.ObjectReference(apiGroup: parts[0] == "core" ? "" : parts[0], apiVersion: parts[1])
        var rest = parts.dropFirst(2)
        if rest.first == "namespaces", rest.count >= 3 {
            reference.namespace = rest.dropFirst().first
            rest = rest.dropFirst(2)
        }
        reference.resource = rest.first
        reference.name = rest.dropFirst().first
        reference.subresource = rest.dropFirst(2).first
        return reference
    }

    /// The HTTP status a gRPC code stands for (google.rpc.Code's mapping).
    private static func httpCode(grpc code: Int) -> Int {
        [1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409, 11: 400, 12: 501, 13: 500, 14: 503, 15: 500,
         16: 401][code] ?? 500
    }
}
