import Foundation
import Testing
import TestSupport

extension KernelSuite {
    /// Logins, TTY input and exec sessions into containers, with a real sshd on loopback,
    /// real PAM, and a real container run by runc.
    @Suite("Sessions on the real kernel", .serialized)
    struct SessionKernelTests {
        typealias Live = LiveKernelTests

        static func object(_ event: [String: Any], _ key: String) -> [String: Any]? { event[key] as? [String: Any] }

        @Test("an ssh key login gives a login event (user, address, result), and its commands carry its session; failed logins are events too")
        func sshLogin() throws {
            try #require(SSHTestServer.isAvailable, "openssh-server is missing: run Scripts/setup --test")
            let marker = Live.marker()
            let server = try SSHTestServer(tag: String(marker.suffix(8)), ttyAudit: false)
            defer { server.remove() }
            let run = try Live.withLiveRun { live in
                let login = try server.ssh("/bin/true \(marker) one; /bin/true \(marker) two")
                try #require(login.status == 0, "ssh: \(login.stderr)")
                let wrongKey = try server.ssh("/bin/true \(marker) never", key: server.wrongKeyPath)
                #expect(wrongKey.status != 0)
                let noUser = try server.ssh("/bin/true", asUser: "nosuch\(marker.suffix(6))")
                #expect(noUser.status != 0)
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = try run.events()
            let logins = events.filter { $0["category"] as? String == "login" }
            let opened = logins.filter {
                Self.object($0, "login")?["op"] as? String == "PAM:session_open" && Self.object($0, "login")?["account"] as? String == server.user
            }
            try #require(opened.count == 1, "no session_open login event for \(server.user): \(logins.count) login events")
            let login = try #require(Self.object(opened[0], "login"))
            #expect(login["address"] as? String == "127.0.0.1")
            #expect(login["result"] as? String == "success")
            let session = try #require(login["session"] as? Int)

            let commands = Live.execEvents(events, marker: marker).filter { Live.argv($0).first == "/bin/true" }
            #expect(commands.map { Live.argv($0).last ?? "" }.sorted() == ["one", "two"])
            for command in commands {
                #expect(Live.process(command)["session"] as? Int == session)
                let carried = try #require(Self.object(command, "session"), "no session object on \(Live.argv(command))")
                #expect(carried["id"] as? Int == session)
                #expect(carried["user"] as? String == server.user)
                #expect(carried["address"] as? String == "127.0.0.1")
                #expect(carried["login_event"] as? String == (opened[0]["id"] as? String))
            }
            #expect(commands.allSatisfy { Live.argv($0).last != "never" })

            let failed = logins.filter { Self.object($0, "login")?["result"] as? String == "failed" }
            #expect(failed.contains { Self.object($0, "login")?["account"] as? String == server.user && Self.object($0, "login")?["address"] as? String == "127.0.0.1" },
                    "no failed login for the wrong key")
            #expect(failed.contains { Self.object($0, "login")?["account"] as? String == "(invalid user)" }, "no failed login for the unknown user")
        }

        @Test("with pam_tty_audit on, what is typed in an ssh session comes out decoded, in that session")
        func ttyInput() throws {
            try #require(SSHTestServer.isAvailable, "openssh-server is missing: run Scripts/setup --test")
            let marker = Live.marker()
            let server = try SSHTestServer(tag: String(marker.suffix(8)), ttyAudit: true)
            defer { server.remove() }
            let run = try Live.withLiveRun { live in
                let typed = try server.ssh("", tty: true, input: "echo \(marker)\tdone\nexit\n")
                try #require(typed.status == 0, "ssh: \(typed.stderr)")
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = try run.events()
            let tty = events.filter { $0["tty_input"] != nil }
            let typed = tty.compactMap { $0["tty_input"] as? String }.joined()
            #expect(typed.contains("echo \(marker)<tab>done<ret>"), "typed: \(typed)")
            #expect(typed.contains("exit<ret>"))
            let sessions = Set(tty.compactMap { Self.object($0, "session")?["user"] as? String })
            #expect(sessions == [server.user], "TTY events not tied to the login: \(sessions)")
        }

        @Test("runc exec -t into a running container is an exec session with a tty, and the commands typed in it belong to it (and carry it as a label) and to the container")
        func execSessionIntoContainer() throws {
            try #require(RuncContainer.isAvailable, "runc and busybox-static are missing: run Scripts/setup --test")
            let marker = Live.marker()
            let container = try RuncContainer(script: "/bin/true \(marker) init-child; exec /bin/sleep 30")
            defer { container.remove() }
            let run = try Live.withLiveRun(["--session-labels"]) { live in
                try container.start()
                // Exec into it once its first process is past its own exec (now in sleep).
                let settled = Wait.until {
                    guard let pid = (try? container.state())?["pid"] as? Int else { return false }
                    return (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8)) == "sleep\n"
                }
                try #require(settled, "the container's first process never reached its sleep")
                _ = try container.execInteractive(["/bin/true \(marker) first", "/bin/true \(marker) second"])
                try #require(try live.barrier(), "the events did not reach the output")
            }
            let events = try run.events()
            let execs = events.filter { $0["category"] as? String == "exec" && Self.object($0, "container")?["id"] as? String == container.id }
            let shell = execs.filter { Live.argv($0) == ["/bin/sh"] }
            try #require(shell.count == 1, "the exec'd shell: \(execs.map { Live.argv($0) })")
            let session = try #require(Self.object(shell[0], "exec_session"), "the shell is not marked as an exec session")
            #expect(session["tty"] as? Bool == true)
            #expect(session["root_pid"] as? Int == Live.pid(shell[0]))

            let typed = Live.execEvents(execs, marker: marker).filter { ["first", "second"].contains(Live.argv($0).last) }
            #expect(typed.count == 2)
            for command in typed {
                #expect(Self.object(command, "exec_session")?["id"] as? String == session["id"] as? String)
                #expect(Self.object(command, "container")?["id"] as? String == container.id)
                #expect((command["labels"] as? [String])?.contains("exec:\(session["id"] as? String ?? "")") == true,
                        "the session is a label too: \(command["labels"] ?? "none")")
            }
            // The container's own processes are not an exec session.
            let own = Live.execEvents(execs, marker: marker).filter { Live.argv($0).last == "init-child" }
            #expect(own.count == 1)
            #expect(own.allSatisfy { $0["exec_session"] == nil && $0["labels"] == nil })
        }
    }
}
