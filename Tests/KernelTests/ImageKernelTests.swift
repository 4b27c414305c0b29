import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// The container image run the way the DaemonSet runs it (flags, mounts, ConfigMaps and
    /// limits generated from the rendered manifest), against real containerd containers
    /// placed where the kubelet places them.
    @Suite("The image, run as the DaemonSet runs it", .serialized)
    struct ImageKernelTests {
        typealias Live = LiveKernelTests
        typealias Attribution = AttributionKernelTests

        /// The kubelet's two cgroup layouts, with a container of each, and the CRI log
        /// directories the kubelet writes for them under /var/log.
        static func kubeletLayouts(tag: String) throws -> [KubeletLayout] {
            let root = URL(fileURLWithPath: "/var/log")
            // The root is the runtime's concern here: containerd (runc) creates the cgroup.
            return [try KubeletLayout(driver: .cgroupfs(controllerRoot: ""), tag: "\(tag)-fs", createsCgroups: false, logRoot: root),
                    try KubeletLayout(driver: .systemd(unifiedRoot: ""), tag: "\(tag)-sd", createsCgroups: false, logRoot: root)]
        }

        @Test("the image with the DaemonSet's settings reports host execs, writes to watched host files, containerd containers in both kubelet cgroup layouts with the ids ctr reports and their pods, and a ctr task exec -t session")
        func daemonSetImage() throws {
            try #require(NodeAuditImage.isAvailable, "podman and runc are missing: run Scripts/setup --test")
            try #require(Containerd.isAvailable, "containerd, ctr, runc or busybox-static are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let work = try Fixtures.temporaryDirectory("image")
            defer { try? FileManager.default.removeItem(at: work) }

            let pod = try DaemonSetPod(kustomization: Fixtures.repositoryRoot.appendingPathComponent("Deploy/base"))
            let configMaps = work.appendingPathComponent("configmaps")
            try pod.writeConfigMaps(into: configMaps)
            let rules = try FileManager.default.contentsOfDirectory(atPath: configMaps.appendingPathComponent("nodeaudit-rules").path)
            try #require(!rules.isEmpty)
            for file in rules {
                let locks = try KernelAudit.locksKernel(file: configMaps.appendingPathComponent("nodeaudit-rules/\(file)").path)
                try #require(!locks, "\(file) would lock audit until reboot")
            }
            let image = try NodeAuditImage()
            defer { image.remove() }
            let name = "nodeaudit-\(marker.suffix(8))"
            // The node's spool and state directory stay the node's: the test's run keeps its own.
            let podArguments = try pod.podmanArguments(
                image: image.name, name: name, configMaps: configMaps,
                hostPaths: ["/var/lib/nodeaudit": work.appendingPathComponent("var-lib-nodeaudit").path],
                nodeName: ProcessInfo.processInfo.hostName)
            let quirks = ["--rm"] + PodmanStorage.runQuirks + ["--stop-timeout", String(pod.terminationGracePeriod)]
            let probe = try #require(pod.execProbe("startupProbe"), "the DaemonSet has no exec startupProbe")
            #expect(pod.execProbe("livenessProbe") == probe && pod.execProbe("readinessProbe") == probe)

            let containerd = try Containerd()
            defer { containerd.stop() }
            let layouts = try Self.kubeletLayouts(tag: String(marker.suffix(8)))
            defer { layouts.forEach { $0.remove() } }

            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            let run = try LiveRun(executable: image.podman[0], arguments: Array(image.podman.dropFirst()) + ["run"] + quirks + podArguments)
            // As the kubelet runs an exec probe: inside the container.
            func inPod(_ command: [String]) throws -> Command.Result {
                try Command.run(image.podman[0], Array(image.podman.dropFirst()) + ["exec", name] + command)
            }
            let started = try run.start(timeout: 120) { (try? inPod(probe).status) == 0 }
            try #require(started, "the pod never passed its startup probe: \(run.stderr)")

            // The node's files are read-only all the way down: a process of the pod (root,
            // without capabilities) writes nowhere below /host, submounts included.
            for below in ["/host/var/tmp", "/host/dev/shm"] {
                let target = "\(below)/nodeaudit-write-\(marker)"
                let attempt = try inPod(["/usr/local/bin/nodeaudit", "rules", "install", "--to", target])
                #expect(attempt.status != 0 && attempt.stderr.contains("Read-only file system"), "\(target): \(attempt.stderr)")
                #expect(!FileManager.default.fileExists(atPath: String(target.dropFirst("/host".count))), "\(target) was written on the node")
            }

            _ = try Live.spawn("/bin/true", [marker, "host"])
            // A file written in a directory the rules watch on the node (Rules/50: -w
            // /etc/containerd/): the watch was added from the pod, through the host's root.
            let watched = "/etc/containerd/nodeaudit-\(marker).tmp"
            try #require(FileManager.default.fileExists(atPath: "/etc/containerd"), "containerd's /etc/containerd is missing")
            // From a new process: the kernel audits only processes forked once audit was
            // on, and on a machine that booted with it off the pod turned it on after
            // this test started.
            let written = try Command.run("/bin/sh", ["-c", "echo nodeaudit > '\(watched)' && rm '\(watched)'"])
            try #require(written.status == 0, "\(written.stderr)")
            let watches = try KernelAudit.listing().filter { $0.contains("/etc/containerd") }
            for layout in layouts {
                try containerd.run(id: layout.containerID, cgroup: layout.cgroupPath,
                                   script: "/bin/true \(marker) first-process; exec /bin/sleep 120")
            }
            // Exec into the first container once its first process is in its sleep.
            let settled = Wait.until(seconds: 60) {
                layouts.allSatisfy { layout in
                    guard let pid = try? containerd.taskPID(layout.containerID) else { return false }
                    return (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "sleep\n"
                }
            }
            let tasks = try containerd.ctr(["task", "ls"]).stdoutText
            try #require(settled, "the containers never reached their sleep: \(tasks)")
            let shown = try containerd.execInteractive(layouts[0].containerID, ["/bin/true \(marker) typed-1", "/bin/true \(marker) typed-2"])
            try #require(try run.barrier(seconds: 120), "the events did not reach the output; stderr: \(run.stderr)")
            #expect(run.stop() == 0, "exit status; stderr: \(run.stderr)")
            #expect(try KernelAudit.status()["pid"] == "0", "the audit pid must be given back")

            let events = try run.events()
            let execs = Live.execEvents(events, marker: marker)
            let host = execs.filter { Live.argv($0) == ["/bin/true", marker, "host"] }
            #expect(host.count == 1 && host.allSatisfy { $0["host"] as? Bool == true && $0["container"] == nil })

            let watchEvents = events.filter { event in
                (event["keys"] as? [String])?.contains("runtime_config") == true
                    && (event["paths"] as? [[String: Any]] ?? []).contains { ($0["name"] as? String)?.contains(marker) == true }
            }
            #expect(watchEvents.count >= 2, """
                the write and the removal of \(watched) on the node: \(watchEvents.count) events; \
                kernel: \(watches); lines naming the file: \
                \((try? String(contentsOf: run.stdoutFile, encoding: .utf8))?.split(separator: "\n").filter { $0.contains(marker + ".tmp") } ?? []); \
                stderr: \(run.stderr.split(separator: "\n").filter { !$0.contains("rules: +") })
                """)

            for layout in layouts {
                let own = execs.filter { Attribution.object($0, "container")?["id"] as? String == layout.containerID }
                let first = own.filter { Live.argv($0).last == "first-process" }
                #expect(first.count == 1, "\(layout.cgroupPath): \(own.map { Live.argv($0) })")
                for event in own {
                    let pod = Attribution.object(event, "k8s", "pod")
                    #expect(pod?["name"] as? String == layout.podName && pod?["namespace"] as? String == layout.namespace
                            && pod?["uid"] as? String == layout.podUID, "\(layout.cgroupPath): \(event)")
                    #expect(Attribution.object(event, "container")?["name"] as? String == layout.containerName)
                    #expect(event["exec_session"] == nil || Live.argv(event) == ["/bin/sh"] || Live.argv(event).last?.hasPrefix("typed") == true)
                }
            }

            // The shell `ctr task exec -t` started, and what was typed in it.
            let inFirst = events.filter { $0["category"] as? String == "exec"
                && Attribution.object($0, "container")?["id"] as? String == layouts[0].containerID }
            let shell = inFirst.filter { Live.argv($0) == ["/bin/sh"] }
            try #require(shell.count == 1, "the exec'd shell: \(inFirst.map { Live.argv($0) }); terminal: \(shown)")
            let session = try #require(Attribution.object(shell[0], "exec_session"), "the shell is not an exec session: \(shell[0])")
            #expect(session["tty"] as? Bool == true)
            let typed = execs.filter { Live.argv($0).last?.hasPrefix("typed-") == true }
            #expect(typed.count == 2, "\(typed.map { Live.argv($0) })")
            for command in typed {
                #expect(Attribution.object(command, "exec_session")?["id"] as? String == session["id"] as? String)
                #expect(Attribution.object(command, "container")?["id"] as? String == layouts[0].containerID)
            }
            #expect(execs.filter { Live.argv($0).last == "first-process" }.allSatisfy { $0["exec_session"] == nil })

            // Uninstall: Deploy/uninstall's pod, as written, on the same node's state: the
            // kernel ends as it was before the install, and the pod waits, ready.
            let installed = try KernelAudit.listing()
            #expect(installed.count > snapshot.rules.count, "the pod left no rules to uninstall: \(installed)")
            let uninstall = try DaemonSetPod(kustomization: Fixtures.repositoryRoot.appendingPathComponent("Deploy/uninstall"))
            let uninstallName = "nodeaudit-uninstall-\(marker.suffix(8))"
            let uninstallArguments = try uninstall.podmanArguments(
                image: image.name, name: uninstallName, configMaps: configMaps,
                hostPaths: ["/var/lib/nodeaudit": work.appendingPathComponent("var-lib-nodeaudit").path],
                nodeName: ProcessInfo.processInfo.hostName)
            let readiness = try #require(uninstall.execProbe("readinessProbe"), "the uninstall DaemonSet has no exec readinessProbe")
            let uninstalling = try LiveRun(executable: image.podman[0], arguments: Array(image.podman.dropFirst()) + ["run"]
                + ["--rm"] + PodmanStorage.runQuirks + ["--stop-timeout", String(uninstall.terminationGracePeriod)] + uninstallArguments)
            let ready = try uninstalling.start(timeout: 120) {
                (try? Command.run(image.podman[0], Array(image.podman.dropFirst()) + ["exec", uninstallName] + readiness).status) == 0
            }
            try #require(ready, "the uninstall pod never became ready: \(uninstalling.stderr)")
            let after = try KernelAudit.Snapshot.take()
            #expect(after.rules == snapshot.rules, "rules after the uninstall: \(after.rules); before the install: \(snapshot.rules)")
            for setting in ["enabled", "backlog_limit", "backlog_wait_time", "failure", "rate_limit"] {
                #expect(after.status[setting] == snapshot.status[setting], "\(setting): \(after.status[setting] ?? "?") after, \(snapshot.status[setting] ?? "?") before")
            }
            #expect(uninstalling.stop() == 0, "the uninstall pod must end cleanly on SIGTERM: \(uninstalling.stderr)")
        }

        @Test("the image alone, as the README runs it (the audit capabilities, the host's pid and network, no mounts): 20 of 20 marker execs, the kernel as before")
        func imageAlone() throws {
            try #require(NodeAuditImage.isAvailable, "podman and runc are missing: run Scripts/setup --test")
            let image = try NodeAuditImage()
            defer { image.remove() }
            let snapshot = try KernelAudit.Snapshot.take()
            defer { #expect(throws: Never.self) { try snapshot.restore() } }
            // The README's line as written, with this test's podman storage, the machine's
            // quirks and this build's image; `run --cleanup` so that the kernel ends as it began.
            let readme = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
            let line = try #require(readme.split(separator: "\n").first { $0.hasPrefix("podman run ") && $0.contains("nodeaudit") },
                                    "README.md has no podman run line")
            var words = line.split(separator: " ").map(String.init)
            #expect(words.filter { $0 == "-v" || $0.hasPrefix("--volume") || $0.hasPrefix("--mount") }.isEmpty, "the README's line mounts something: \(line)")
            words[words.count - 1] = image.name
            let run = try LiveRun(executable: image.podman[0], arguments: Array(image.podman.dropFirst()) + ["run"] + PodmanStorage.runQuirks
                + words.dropFirst(2) + ["run", "--cleanup"])
            try #require(try run.start(timeout: 120), "\(run.stderr)")
            let marker = Live.marker()
            for number in 0..<20 { _ = try Live.spawn("/bin/true", [marker, String(number)]) }
            try #require(try run.barrier(), "the events did not reach the output: \(run.stderr)")
            #expect(run.stop() == 0, "\(run.stderr)")
            let execs = Live.execEvents(try run.events(), marker: marker)
            #expect(Set(execs.compactMap { Live.argv($0).last }) == Set((0..<20).map(String.init)), "\(execs.count) of 20")
            // Without the node's / at /host, the watches are skipped, each saying so.
            #expect(run.stderr.contains("the watch is added under the node's root /host, which does not exist here"), "\(run.stderr.prefix(2000))")
            #expect(try KernelAudit.listing() == snapshot.rules)
        }
    }
}
