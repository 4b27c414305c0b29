import Foundation

/// A real OpenSSH server on 127.0.0.1 for login tests: its own host key, a temporary user
/// who logs in with a key, and a PAM service of its own (sshd names its PAM service after
/// the name it runs as, so the host's /etc/pam.d/sshd is not touched). `remove()` ends
/// the server (by its pid) and deletes the user, keys, PAM file and directory.
public final class SSHTestServer {
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd") }

    public let user: String
    public let port: Int
    public let directory: URL
    private let pamService: String
    private var serverPID: pid_t?
    private var userCreated = false

    public var keyPath: String { directory.appendingPathComponent("user_key").path }
    public var wrongKeyPath: String { directory.appendingPathComponent("wrong_key").path }

    /// - Parameter ttyAudit: put pam_tty_audit (enable=*) in the session stack.
    public init(tag: String, ttyAudit: Bool) throws {
        user = "na\(tag.prefix(8))"
        pamService = "nodeaudit-sshd-\(tag.prefix(8))"
        port = LoopbackPort.free()
        directory = URL(fileURLWithPath: "/tmp/nodeaudit-ssh-\(tag)")
        do {
            try setUp(ttyAudit: ttyAudit)
        } catch {
            remove()
            throw error
        }
    }

    private func setUp(ttyAudit: Bool) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let home = directory.appendingPathComponent("home")
        try run("/usr/sbin/useradd", ["-M", "-d", home.path, "-s", "/bin/sh", user])
        userCreated = true
        for key in ["host_key", "user_key", "wrong_key"] {
            try run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", directory.appendingPathComponent(key).path])
        }
        let ssh = home.appendingPathComponent(".ssh")
        try FileManager.default.createDirectory(at: ssh, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: keyPath + ".pub", toPath: ssh.appendingPathComponent("authorized_keys").path)
        try run("/bin/chown", ["-R", user, home.path])

        let pam = ["auth required pam_unix.so", "account required pam_unix.so", "session required pam_loginuid.so"]
            + (ttyAudit ? ["session required pam_tty_audit.so enable=*"] : []) + ["session required pam_unix.so"]
        try (pam.joined(separator: "\n") + "\n").write(toFile: "/etc/pam.d/\(pamService)", atomically: true, encoding: .utf8)
        let config = """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory.appendingPathComponent("host_key").path)
            UsePAM yes
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            PubkeyAuthentication yes
            AuthorizedKeysFile .ssh/authorized_keys
            PidFile \(directory.appendingPathComponent("sshd.pid").path)
            StrictModes no

            """
        try config.write(to: directory.appendingPathComponent("sshd_config"), atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        // sshd must be started by an absolute path; the link's name is its PAM service.
        let server = directory.appendingPathComponent(pamService).path
        try FileManager.default.createSymbolicLink(atPath: server, withDestinationPath: "/usr/sbin/sshd")
        try run(server, ["-f", directory.appendingPathComponent("sshd_config").path, "-E", directory.appendingPathComponent("sshd.log").path])
        let started = Wait.until(seconds: 5) {
            guard let text = try? String(contentsOf: directory.appendingPathComponent("sshd.pid"), encoding: .utf8),
                  let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { return false }
            serverPID = pid
            return true
        }
        if started { return }
        throw SSHError.failed("sshd did not start: \((try? String(contentsOf: directory.appendingPathComponent("sshd.log"), encoding: .utf8)) ?? "")")
    }

    /// `ssh` as the test user (or `asUser`), with `key`; returns the client's result.
    public func ssh(_ command: String, key: String? = nil, asUser: String? = nil, tty: Bool = false, input: String? = nil) throws -> Command.Result {
        var arguments = ["-i", key ?? keyPath, "-p", String(port), "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                         "-o", "BatchMode=yes", "-o", "LogLevel=ERROR"]
        if tty { arguments.append("-tt") }
        arguments += ["\(asUser ?? user)@127.0.0.1"]
        if !command.isEmpty { arguments.append(command) }
        guard let input else { return try Command.run("/usr/bin/ssh", arguments) }
        let inputFile = directory.appendingPathComponent("input-\(UUID().uuidString)")
        try input.write(to: inputFile, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: inputFile) }
        return try Command.run("/usr/bin/ssh", arguments, stdinFile: inputFile.path)
    }

    public func remove() {
        if let serverPID {
            kill(serverPID, SIGTERM)
            Wait.until(seconds: 5) { kill(serverPID, 0) != 0 }
        }
        serverPID = nil
        if userCreated {
            // Sessions of the user are over once sshd is gone; userdel refuses while any run.
            _ = try? Command.run("/usr/sbin/userdel", ["-f", user])
            userCreated = false
        }
        try? FileManager.default.removeItem(atPath: "/etc/pam.d/\(pamService)")
        try? FileManager.default.removeItem(at: directory)
    }

    private func run(_ executable: String, _ arguments: [String]) throws {
        let result = try Command.run(executable, arguments)
        guard result.status == 0 else { throw SSHError.failed("\(executable) \(arguments.joined(separator: " ")): \(result.stderr)") }
    }

    public enum SSHError: Error {
        case failed(String)
    }
}
