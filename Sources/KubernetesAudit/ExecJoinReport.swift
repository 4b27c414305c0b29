import AuditEvents
import Output

/// The `k8s_exec` event of a live exec session answered after its first events were
/// written (docs/events.md): which session, in which pod, and what the API audit stream
/// said of it, in the output's schema. Those events carry `k8s.exec.key`; this names the
/// user (or `ambiguous`, or `none`) for all of them.
package struct ExecJoinReport {
    package var session: ExecRequesterJoin.WaitingSession
    package var answer: ExecRequesterMatch
    package var epochMilliseconds: Int64

    package init(session: ExecRequesterJoin.WaitingSession, answer: ExecRequesterMatch, epochMilliseconds: Int64) {
        self.session = session
        self.answer = answer
        self.epochMilliseconds = epochMilliseconds
    }

    package func encode(into w: inout JSONWriter, ecs: Bool, staticFields: StaticFields) {
        let id = "k8s-exec/" + session.id
        let time = UInt64(max(0, epochMilliseconds))
        let exec = KubernetesExec(key: session.key, requester: answer)
        w.beginObject()
        if ecs {
            w.key("@timestamp")
            w.rfc3339(epochMilliseconds: time)
            w.ecsEvent(id: id, category: "session", type: "info", action: "k8s-exec-joined", module: "nodeaudit", dataset: "nodeaudit.audit")
            w.objectOfOne("host", "name", session.node)
            w.ecsOrchestrator(clusterName: staticFields.clusterName, isKubernetes: true, namespace: session.namespace, podName: session.pod)
            w.objectOfOne("container", "name", session.container)
            w.staticFields("labels", staticFields.fields)
            w.key("nodeaudit")
            w.beginObject()
            w.member("category", "k8s_exec")
            w.objectOfOne("exec_session", "id", session.id)
            w.key("k8s")
            w.beginObject()
            w.kubernetesExec(exec)
            w.endObject()
            w.endObject()
        } else {
            w.member("id", id)
            w.key("time")
            w.rfc3339(epochMilliseconds: time)
            w.member("node", session.node)
            if let cluster = staticFields.clusterName { w.member("cluster", cluster) }
            w.staticFields("fields", staticFields.fields)
            w.member("category", "k8s_exec")
            w.objectOfOne("exec_session", "id", session.id)
            w.objectOfOne("container", "name", session.container)
            w.key("k8s")
            w.beginObject()
            w.key("pod")
            w.beginObject()
            w.member("name", session.pod)
            w.member("namespace", session.namespace)
            w.endObject()
            w.kubernetesExec(exec)
            w.endObject()
        }
        w.endObject()
        w.newline()
    }
}

extension JSONWriter {
    /// ECS `event` of the API stream's events: one category and one type.
    mutating func ecsEvent(id: String, category: StaticString, type: String, action: String?, outcome: String? = nil, module: StaticString,
                           dataset: StaticString) {
        key("event")
        beginObject()
        member("id", id)
        member("kind", "event")
        key("category")
        beginArray()
        string(category.description)
        endArray()
        key("type")
        beginArray()
        string(type)
        endArray()
        member("action", action)
        member("outcome", outcome)
        member("module", module.description)
        member("dataset", dataset.description)
        endObject()
    }

    /// `"key": {"name": value}`; nothing without a value.
    mutating func objectOfOne(_ key: StaticString, _ name: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        beginObject()
        member(name, value)
        endObject()
    }
}
