import AuditEvents

extension JSONWriter {
    /// `"command": [ARGV…]` of an exec session (and `"command_cut": true` when cut).
    mutating func execCommand(_ command: ExecCommand) {
        key("command")
        beginArray()
        for argument in command.shown { string(argument) }
        endArray()
        if command.isCut {
            key("command_cut")
            bool(true)
        }
    }

    /// `"exec": {"key", "match", "user" | "audit_ids"}`: the exec session's key and what the
    /// API audit stream said of it (docs/events.md, `k8s.exec`); the same in both schemas.
    public mutating func kubernetesExec(_ exec: KubernetesExec) {
        key("exec")
        beginObject()
        member("key", exec.key)
        switch exec.requester {
        case nil: break
        case .found(let requester)?:
            member("match", "user")
            key("user")
            beginObject()
            member("username", requester.username)
            member("uid", requester.uid)
            if !requester.groups.isEmpty { strings("groups", requester.groups) }
            member("impersonated_user", requester.impersonatedUser)
            if !requester.impersonatedGroups.isEmpty { strings("impersonated_groups", requester.impersonatedGroups) }
            if !requester.sourceIPs.isEmpty { strings("source_ips", requester.sourceIPs) }
            member("user_agent", requester.userAgent)
            member("verb", requester.verb)
            member("audit_id", requester.auditID)
            endObject()
        case .ambiguous(let auditIDs)?:
            member("match", "ambiguous")
            strings("audit_ids", auditIDs)
        case .notFound?:
            member("match", "none")
        }
        endObject()
    }
}
