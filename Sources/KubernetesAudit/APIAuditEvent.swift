import AuditEvents

/// One event of the API server's audit stream (`audit.k8s.io/v1` or `v1beta1` `Event`):
/// every field the schema names, decoded; the objects it carries kept as JSON.
package struct APIAuditEvent: Sendable, Equatable {
    package struct UserInfo: Sendable, Equatable {
        package var username: String?
        package var uid: String?
        package var groups: [String] = []
        /// `extra`: what the authenticator added (scopes, credential ids), name → values.
        package var extra: [(String, [String])] = []

        package static func == (lhs: UserInfo, rhs: UserInfo) -> Bool {
            lhs.username == rhs.username && lhs.uid == rhs.uid && lhs.groups == rhs.groups
                && lhs.extra.map(\.0) == rhs.extra.map(\.0) && lhs.extra.map(\.1) == rhs.extra.map(\.1)
        }
    }

    package struct ObjectReference: Sendable, Equatable {
        package var resource: String?
        package var namespace: String?
        package var name: String?
        package var uid: String?
        package var apiGroup: String?
        package var apiVersion: String?
        package var resourceVersion: String?
        package var subresource: String?
    }

    package struct Status: Sendable, Equatable {
        package var code: Int?
        package var status: String?
        package var reason: String?
        package var message: String?
        /// `details` (name, group, kind, causes…), as written.
        package var details: JSONValue?
    }

    /// `audit.k8s.io/v1` or `audit.k8s.io/v1beta1`.
    package var apiVersion: String
    package var level: String?
    package var auditID: String
    package var stage: String?
    package var requestURI: String?
    package var verb: String?
    package var user: UserInfo
    package var impersonatedUser: UserInfo?
    package var sourceIPs: [String] = []
    package var userAgent: String?
    package var objectRef: ObjectReference?
    package var responseStatus: Status?
    package var requestObject: JSONValue?
    package var responseObject: JSONValue?
    /// RFC 3339 times as written, and in milliseconds since the epoch when readable.
    package var requestReceivedTimestamp: String?
    package var stageTimestamp: String?
    package var requestReceivedMilliseconds: Int64?
    package var stageMilliseconds: Int64?
    package var annotations: [(String, String)] = []

    package static func == (lhs: APIAuditEvent, rhs: APIAuditEvent) -> Bool {
        lhs.auditID == rhs.auditID && lhs.stage == rhs.stage && lhs.apiVersion == rhs.apiVersion && lhs.level == rhs.level
            && lhs.requestURI == rhs.requestURI && lhs.verb == rhs.verb && lhs.user == rhs.user
            && lhs.impersonatedUser == rhs.impersonatedUser && lhs.sourceIPs == rhs.sourceIPs && lhs.userAgent == rhs.userAgent
            && lhs.objectRef == rhs.objectRef && lhs.responseStatus == rhs.responseStatus && lhs.requestObject == rhs.requestObject
            && lhs.responseObject == rhs.responseObject && lhs.requestReceivedTimestamp == rhs.requestReceivedTimestamp
            && lhs.stageTimestamp == rhs.stageTimestamp && lhs.annotations.map(\.0) == rhs.annotations.map(\.0)
            && lhs.annotations.map(\.1) == rhs.annotations.map(\.1)
    }

    /// The authorizer's verdict (`authorization.k8s.io/decision`: `allow` or `forbid`).
    package var decision: String? { annotation("authorization.k8s.io/decision") }
    /// Why (`authorization.k8s.io/reason`), e.g. the RBAC binding that allowed it.
    package var decisionReason: String? { annotation("authorization.k8s.io/reason") }

    package func annotation(_ name: String) -> String? { annotations.last { $0.0 == name }?.1 }

    /// Whether the request was refused (by authentication, authorization, admission or the
    /// handler): a response code of 400 or more, or a `forbid` decision.
    package var wasRefused: Bool { (responseStatus?.code ?? 0) >= 400 || decision == "forbid" }

    /// The time the event is dated by: the stage's, else the request's.
    package var milliseconds: Int64? { stageMilliseconds ?? requestReceivedMilliseconds }

    /// Requests that stay open (a watch, an exec or attach stream, a port forward, a
    /// proxied connection): their ResponseStarted stage is the one that says they began.
    package var isLongRunning: Bool {
        if verb == "watch" { return true }
        guard let subresource = objectRef?.subresource else { return false }
        return ["exec", "attach", "portforward", "proxy"].contains(subresource)
    }

    /// The exec or attach this request asks for, when it is one.
    package var execRequest: PodExecRequest? {
        guard let uri = requestURI, objectRef?.resource == "pods" || objectRef == nil else { return nil }
        return PodExecRequest(requestURI: uri)
    }

    /// The requester, as an exec session names it.
    package var requester: KubernetesRequester {
        KubernetesRequester(username: user.username, uid: user.uid, groups: user.groups,
                            impersonatedUser: impersonatedUser?.username, impersonatedGroups: impersonatedUser?.groups ?? [],
                            sourceIPs: sourceIPs, userAgent: userAgent, auditID: auditID, verb: verb)
    }
}
