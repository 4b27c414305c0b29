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
        let time = { (w: inout JSONWriter) in
            Timestamp.withRFC3339(seconds: UInt64(max(0, epochMilliseconds) / 1000), milliseconds: UInt16(max(0, epochMilliseconds) % 1000)) {
                w.string($0)
            }
        }
        let exec = KubernetesExec(key: session.key, requester: answer)
        w.beginObject()
        if ecs {
            w.key("@timestamp")
            time(&w)
            w.key("event")
            w.beginObject()
            w.member("id", id)
            w.member("kind", "event")
            w.key("category")
            w.beginArray()
            w.string("session")
            w.endArray()
            w.key("type")
            w.beginArray()
            w.string("info")
            w.endArray()
            w.member("action", "k8s-exec-joined")
            w.member("module", "nodeaudit")
            w.member("dataset", "nodeaudit.audit")
            w.endObject()
            if let node = session.node {
                w.key("host")
                w.beginObject()
                w.member("name", node)
                w.endObject()
            }
            w.key("orchestrator")
            w.beginObject()
            w.member("type", "kubernetes")
            if let cluster = staticFields.clusterName {
                w.key("cluster")
                w.beginObject()
                w.member("name", cluster)
                w.endObject()
            }
            w.member("namespace", session.namespace)
            w.key("resource")
            w.beginObject()
            w.member("type", "pod")
            w.member("name", session.pod)
            w.endObject()
            w.endObject()
            if let container = session.container {
                w.key("container")
                w.beginObject()
                w.member("name", container)
                w.endObject()
            }
            w.staticFields("labels", staticFields.fields)
            w.key("nodeaudit")
            w.beginObject()
            w.member("category", "k8s_exec")
            w.key("exec_session")
            w.beginObject()
            w.member("id", session.id)
            w.endObject()
            w.key("k8s")
            w.beginObject()
            w.kubernetesExec(exec)
            w.endObject()
            w.endObject()
        } else {
            w.member("id", id)
            w.key("time")
            time(&w)
            w.member("node", session.node)
            if let cluster = staticFields.clusterName { w.member("cluster", cluster) }
            w.staticFields("fields", staticFields.fields)
            w.member("category", "k8s_exec")
            w.key("exec_session")
            w.beginObject()
            w.member("id", session.id)
            w.endObject()
            if let container = session.container {
                w.key("container")
                w.beginObject()
                w.member("name", container)
                w.endObject()
            }
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
