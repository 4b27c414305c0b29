import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// The user behind `kubectl exec`, on a real node side: containerd runs the pod's
    /// container in the cgroup and with the log directories the kubelet lays out, `ctr task
    /// exec` runs the exec session, nodeaudit records it live, and the API server's audit
    /// events (written here to the documented schema, as the API server writes them) are
    /// joined to it offline with `parse --k8s-audit`.
    @Suite("Kubernetes user on exec sessions, real node side", .serialized)
    struct KubernetesExecKernelTests {
        typealias Live = LiveKernelTests

        /// One API audit event of a `pods/exec`, as kube-apiserver's log backend writes it:
        /// `create` with POST (SPDY, older kubectl) or `get` (websocket, kubectl 1.29 on).
        static func apiEvent(auditID: String, verb: String, user: [String: Any], impersonated: [String: Any]? = nil,
                             namespace: String, pod: String, container: String, command: [String], at time: Date) throws -> String {
            let query = command.map { "command=" + ($0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0) }
                + ["container=\(container)", "stdin=true", "stdout=true", "stderr=true", "tty=false"]
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let stamp = { (date: Date) in formatter.string(from: date) }
            var event: [String: Any] = [
                "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": auditID, "stage": "ResponseStarted",
                "requestURI": "/api/v1/namespaces/\(namespace)/pods/\(pod)/exec?" + query.joined(separator: "&"),
                "verb": verb, "user": user, "sourceIPs": ["192.0.2.10"], "userAgent": "kubectl/v1.30.2 (linux/amd64) kubernetes/3968350",
                "objectRef": ["resource": "pods", "namespace": namespace, "name": pod, "apiVersion": "v1", "subresource": "exec"],
                "responseStatus": ["metadata": [String: Any](), "code": 101],
                "requestReceivedTimestamp": stamp(time), "stageTimestamp": stamp(time.addingTimeInterval(0.05)),
                "annotations": ["authorization.k8s.io/decision": "allow", "authorization.k8s.io/reason": ""],
            ]
            if let impersonated { event["impersonatedUser"] = impersonated }
            return String(decoding: try JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]), as: UTF8.self)
        }

        /// A node with one pod as the kubelet lays it out, its container run by containerd.
        final class NodeSide {
            let marker = Live.marker()
            var tag: String { String(marker.suffix(8)) }
            let logs: URL
            let pod: KubeletLayout
            let containerd: Containerd

            init() throws {
                try #require(Containerd.isAvailable, "containerd, ctr, runc or busybox-static are missing: run Scripts/setup --test")
                logs = try Fixtures.temporaryDirectory("kubelet-logs")
                pod = try KubeletLayout(driver: .cgroupfs(controllerRoot: ""), tag: String(marker.suffix(8)), createsCgroups: false, logRoot: logs)
                containerd = try Containerd()
            }

            /// Ends containerd, then removes the pod's layout and its log directories.
            func remove() {
                containerd.stop()
                pod.remove()
                try? FileManager.default.removeItem(at: logs)
            }
        }

        @Test("parse --k8s-audit names the user of create (SPDY) and get (websocket) execs, marks an ambiguous pair, and reports an exec without an API request")
        func join() throws {
            let node = try NodeSide()
            defer { node.remove() }
            let (marker, tag, pod, containerd) = (node.marker, node.tag, node.pod, node.containerd)

            let argv = { (name: String) in ["/bin/sh", "-c", "/bin/true \(marker)-\(name)"] }
            var started: [String: Date] = [:]
            let run = try Live.withLiveRun(["--pod-logs", pod.podLogRoot, "--container-logs", pod.containerLogRoot]) { live in
                try containerd.run(id: pod.containerID, cgroup: pod.cgroupPath, script: "exec /bin/sleep 600")
                for name in ["spdy", "websocket", "twice", "direct"] {
                    started[name] = Date()
                    let result = try containerd.exec(pod.containerID, argv(name))
                    try #require(result.status == 0, "ctr task exec: \(result.stderr)")
                }
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let directory = try Fixtures.temporaryDirectory("k8s-join")
            defer { try? FileManager.default.removeItem(at: directory) }
            let alice: [String: Any] = ["username": "alice@example.com", "uid": "u-1", "groups": ["devs", "system:authenticated"]]
            let admin: [String: Any] = ["username": "ci-bot", "groups": ["system:authenticated"]]
            let target = (namespace: pod.namespace, pod: pod.podName, container: pod.containerName)
            let lines = [
                try Self.apiEvent(auditID: "\(tag)-spdy", verb: "create", user: alice, namespace: target.namespace, pod: target.pod,
                                  container: target.container, command: argv("spdy"), at: started["spdy"]!),
                try Self.apiEvent(auditID: "\(tag)-ws", verb: "get", user: admin, impersonated: ["username": "bob", "groups": ["ops"]],
                                  namespace: target.namespace, pod: target.pod, container: target.container, command: argv("websocket"),
                                  at: started["websocket"]!),
                try Self.apiEvent(auditID: "\(tag)-twice-1", verb: "create", user: alice, namespace: target.namespace, pod: target.pod,
                                  container: target.container, command: argv("twice"), at: started["twice"]!.addingTimeInterval(-1)),
                try Self.apiEvent(auditID: "\(tag)-twice-2", verb: "get", user: admin, namespace: target.namespace, pod: target.pod,
                                  container: target.container, command: argv("twice"), at: started["twice"]!),
                // Same argv as "direct" but another container: a different key, not a match.
                try Self.apiEvent(auditID: "\(tag)-other", verb: "create", user: alice, namespace: target.namespace, pod: target.pod,
                                  container: "sidecar", command: argv("direct"), at: started["direct"]!),
            ]
            let apiLog = directory.appendingPathComponent("kube-apiserver-audit.log")
            try (lines.joined(separator: "\n") + "\n").write(to: apiLog, atomically: true, encoding: .utf8)
            let nodeLog = directory.appendingPathComponent("node-events.json")
            try FileManager.default.copyItem(at: run.stdoutFile, to: nodeLog)

            let result = try NodeAuditBinary.run(["parse", "--k8s-audit", apiLog.path, nodeLog.path])
            try #require(result.status == 0, "\(result.stderr)")
            let joined = try Command.jsonLines(result.stdout)
            let apiEvents = joined.filter { $0["category"] as? String == "k8s_api" }
            #expect(apiEvents.count == lines.count, "\(apiEvents.count) k8s_api events of \(lines.count)")
            let keyOf = { (auditID: String) in
                apiEvents.first { ($0["k8s_api"] as? [String: Any])?["audit_id"] as? String == auditID }
                    .flatMap { (($0["k8s"] as? [String: Any])?["exec"] as? [String: Any])?["key"] as? String }
            }
            /// The events of one exec session: the shell and the program it ran (not `ctr task
            /// exec` on the host, whose argv holds theirs).
            let session = { (name: String) in
                joined.filter { event in
                    event["category"] as? String != "k8s_api" && event["host"] == nil
                        && Live.argv(event).contains { $0.hasSuffix("\(marker)-\(name)") }
                }
            }
            let exec = { (event: [String: Any]) in (event["k8s"] as? [String: Any])?["exec"] as? [String: Any] ?? [:] }
            for name in ["spdy", "websocket", "twice", "direct"] {
                let events = session(name)
                #expect(events.count >= 2, "\(name): \(events.count) events of the session's shell and its program")
                for event in events {
                    let sessionObject = event["exec_session"] as? [String: Any]
                    #expect(sessionObject?["command"] as? [String] == argv(name), "\(name): exec_session.command \(sessionObject ?? [:])")
                    #expect((event["k8s"] as? [String: Any])?["pod"] as? [String: Any] != nil, "\(name): no pod")
                    #expect((event["container"] as? [String: Any])?["name"] as? String == pod.containerName)
                }
            }
            // Both kubectl forms: the key on both sides, and the user on every event of the session.
            for (name, auditID, user) in [("spdy", "\(tag)-spdy", "alice@example.com"), ("websocket", "\(tag)-ws", "ci-bot")] {
                let events = session(name)
                #expect(events.allSatisfy { exec($0)["key"] as? String == keyOf(auditID) }, "\(name): the keys differ")
                #expect(events.allSatisfy { exec($0)["match"] as? String == "user" }, "\(name): \(events.map(exec))")
                let users = events.compactMap { exec($0)["user"] as? [String: Any] }
                #expect(users.count == events.count && users.allSatisfy { $0["username"] as? String == user && $0["audit_id"] as? String == auditID },
                        "\(name): \(users)")
            }
            let impersonated = session("websocket").compactMap { (exec($0)["user"] as? [String: Any])?["impersonated_user"] as? String }
            #expect(Set(impersonated) == ["bob"], "impersonation: \(impersonated)")
            let twice = session("twice")
            #expect(twice.allSatisfy { exec($0)["match"] as? String == "ambiguous" && exec($0)["user"] == nil }, "\(twice.map(exec))")
            #expect(twice.allSatisfy { Set(exec($0)["audit_ids"] as? [String] ?? []) == ["\(tag)-twice-1", "\(tag)-twice-2"] })
            let direct = session("direct")
            #expect(direct.allSatisfy { exec($0)["match"] as? String == "none" }, "\(direct.map(exec))")
            // Events outside exec sessions pass through unchanged: no k8s.exec.
            let others = joined.filter { $0["category"] as? String != "k8s_api" && $0["exec_session"] == nil }
            #expect(!others.isEmpty && others.allSatisfy { exec($0).isEmpty })
        }
    
        @Test("run joins live: a request read before the exec names the user on its events, one read after it in a k8s_exec event, and an exec without one is reported")
        func liveJoin() throws {
            let node = try NodeSide()
            defer { node.remove() }
            let (marker, tag, pod, containerd) = (node.marker, node.tag, node.pod, node.containerd)
            let apiDirectory = try Fixtures.temporaryDirectory("apiserver-log")
            defer { try? FileManager.default.removeItem(at: apiDirectory) }
            let apiLog = apiDirectory.appendingPathComponent("audit.log")
            _ = FileManager.default.createFile(atPath: apiLog.path, contents: nil)
            let append = { (line: String) in
                let handle = try FileHandle(forWritingTo: apiLog)
                try handle.seekToEnd()
                try handle.write(contentsOf: Data((line + "\n").utf8))
                try handle.close()
            }
            let argv = { (name: String) in ["/bin/sh", "-c", "/bin/true \(marker)-\(name)"] }
            let request = { (name: String, verb: String, user: String, time: Date) in
                try Self.apiEvent(auditID: "\(tag)-\(name)", verb: verb, user: ["username": user, "groups": ["system:authenticated"]],
                                  namespace: pod.namespace, pod: pod.podName, container: pod.containerName, command: argv(name), at: time)
            }
            let run = try Live.withLiveRun(["--pod-logs", pod.podLogRoot, "--container-logs", pod.containerLogRoot,
                                            "--k8s-audit-file", apiLog.path, "--k8s-join-window", "5"]) { live in
                try #require(Wait.until(seconds: 20) { live.stderr.contains("following the API server's audit log") })
                try containerd.run(id: pod.containerID, cgroup: pod.cgroupPath, script: "exec /bin/sleep 600")
                // The API server logs ResponseStarted as the stream starts: here once before the exec
                // (read by nodeaudit before the exec begins: its k8s_api event is out)…
                try append(try request("before", "create", "alice", Date()))
                try #require(Wait.until(seconds: 30) {
                    ((try? live.events()) ?? []).contains { ($0["k8s_api"] as? [String: Any])?["audit_id"] as? String == "\(tag)-before" }
                }, "the request was not read")
                try #require(try containerd.exec(pod.containerID, argv("before")).status == 0)
                // …once after it, as when the log is read after the node's first events (the
                // barrier: they are out), well within the window of 5 s.
                let after = Date()
                try #require(try containerd.exec(pod.containerID, argv("after")).status == 0)
                try #require(try live.barrier(), "the events did not reach the output")
                try append(try request("after", "get", "bob", after))
                try #require(try containerd.exec(pod.containerID, argv("none")).status == 0)
                // k8s_exec events: "after" once its request is read, "none" after twice the window.
                #expect(Wait.until(seconds: 60) {
                    ((try? live.events()) ?? []).filter { $0["category"] as? String == "k8s_exec" }.count >= 2
                }, "\(live.stderr)")
            }
            let events = try run.events()
            let exec = { (event: [String: Any]) in (event["k8s"] as? [String: Any])?["exec"] as? [String: Any] ?? [:] }
            let session = { (name: String) in
                events.filter { $0["host"] == nil && $0["category"] as? String != "k8s_api" && Live.argv($0).contains { $0.hasSuffix("\(marker)-\(name)") } }
            }
            let before = session("before")
            #expect(before.count >= 2 && before.allSatisfy { exec($0)["match"] as? String == "user" }, "\(before.map(exec))")
            #expect(before.allSatisfy { (exec($0)["user"] as? [String: Any])?["username"] as? String == "alice" })
            let reports = events.filter { $0["category"] as? String == "k8s_exec" }
            let report = { (name: String) -> [String: Any]? in
                let id = (session(name).first?["exec_session"] as? [String: Any])?["id"] as? String
                return reports.first { ($0["exec_session"] as? [String: Any])?["id"] as? String == id }
            }
            let afterReport = try #require(report("after"), "no k8s_exec event for the session whose request came later: \(reports)")
            #expect(exec(afterReport)["match"] as? String == "user" && (exec(afterReport)["user"] as? [String: Any])?["username"] as? String == "bob",
                    "\(afterReport)")
            #expect(exec(afterReport)["key"] as? String == exec(session("after")[0])["key"] as? String)
            #expect((afterReport["k8s"] as? [String: Any])?["pod"] as? [String: String] == ["name": pod.podName, "namespace": pod.namespace])
            let noneReport = try #require(report("none"), "no k8s_exec event for the exec without a request: \(reports)")
            #expect(exec(noneReport)["match"] as? String == "none", "\(noneReport)")
            #expect(report("before") == nil, "a session answered on its first event needs no k8s_exec event")
            let apiEvents = events.filter { $0["category"] as? String == "k8s_api" }
            #expect(apiEvents.count == 2, "\(apiEvents.count) k8s_api events")
        }
    }
}
