import AuditEvents
import Output

/// The join for events nodeaudit already wrote (JSON lines, native or ECS, from a log store
/// or a file output): each line of an exec session gets `k8s.exec.match` and the user, as
/// `run` would have given it; other lines pass unchanged.
package final class EventLineJoin {
    private let index: ExecRequestIndex
    private var sessions = SessionAnswers()

    package init(index: ExecRequestIndex) { self.index = index }

    /// The line joined, or nil when it is not a nodeaudit event (the caller reports it).
    package func join<C: Collection>(_ text: C) -> [UInt8]? where C.Element == UInt8 {
        let line = Array(text)
        guard let event = try? JSONParser.parse(line), event.isObject else { return nil }
        // Native: k8s.exec, exec_session.id, time. ECS: nodeaudit.k8s.exec, nodeaudit.exec_session.id, @timestamp.
        let isECS = event["@timestamp"] != nil
        let holder = isECS ? event["nodeaudit"] : event
        guard event["time"] != nil || isECS, event["category"] != nil || isECS else { return nil }
        guard let key = holder?["k8s"]?["exec"]?["key"]?.string, let session = holder?["exec_session"]?["id"]?.string,
              let time = (isECS ? event["@timestamp"] : event["time"])?.string.flatMap(RFC3339.milliseconds) else {
            return line + [UInt8(ascii: "\n")]
        }
        let answer = sessions.answer(for: session) { index.match(key: key, at: time) }
        var exec = JSONWriter(capacity: 512)
        exec.beginObject()
        exec.kubernetesExec(KubernetesExec(key: key, requester: answer))
        exec.endObject()
        guard let joined = exec.withBytes({ try? JSONParser.parse($0) })?["exec"] else { return nil }
        let path = isECS ? ["nodeaudit", "k8s", "exec"] : ["k8s", "exec"]
        var w = JSONWriter(capacity: line.count + 512)
        w.value(Self.replacing(path[...], in: event, with: joined))
        w.newline()
        return w.buffer
    }

    /// `value` with the member at `path` (objects' keys) replaced by `replacement`.
    private static func replacing(_ path: ArraySlice<String>, in value: JSONValue, with replacement: JSONValue) -> JSONValue {
        guard let name = path.first, case .object(let members) = value else { return replacement }
        return .object(members.map { member in
            member.0 == name ? (member.0, replacing(path.dropFirst(), in: member.1, with: replacement)) : member
        })
    }
}
