import Foundation

/// Someone at a terminal: runs a command on a pseudo-terminal and types lines into it one
/// after another, as at a `kubectl exec -it` prompt (the runtimes' `exec -t` needs a real
/// terminal on stdin, which a pipe is not).
public enum Terminal {
    /// Runs `command` (an absolute path first) on a new pseudo-terminal, types each of
    /// `lines` and then `exit`, and returns what the terminal showed.
    public static func type(_ lines: [String], into command: [String]) throws -> String {
        let script = """
            import os, pty, select, sys, time
            count = int(sys.argv[1])
            command = sys.argv[2:2 + count]
            typed = sys.argv[2 + count:]
            pid, fd = pty.fork()
            if pid == 0:
                os.execv(command[0], command)
            shown = b""
            def read_for(seconds):
                global shown
                end = time.time() + seconds
                while time.time() < end:
                    if select.select([fd], [], [], 0.05)[0]:
                        try:
                            shown += os.read(fd, 4096)
                        except OSError:
                            return
            read_for(1.0)
            for line in typed:
                os.write(fd, line.encode() + b"\\r")
                read_for(0.5)
            os.write(fd, b"exit\\r")
            read_for(1.0)
            _, status = os.waitpid(pid, 0)
            sys.stdout.write(shown.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(status))
            """
        let result = try Command.run("/usr/bin/python3", ["-c", script, String(command.count)] + command + lines)
        guard result.status == 0 else { throw TerminalError.failed(command.joined(separator: " "), result.stdoutText + result.stderr) }
        return result.stdoutText
    }

    public enum TerminalError: Error {
        case failed(String, String)
    }
}

/// The root file system of the tests' containers: Debian's static busybox and a few of its
/// applets, in a directory of its own.
public enum BusyboxRootfs {
    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: busybox) }

    static let busybox = "/bin/busybox"

    /// Makes `directory`/bin with busybox and the applets the tests run.
    public static func make(at directory: URL) throws {
        let bin = directory.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        try Command.copyExecutable(busybox, to: bin.appendingPathComponent("busybox").path)
        for applet in ["sh", "true", "sleep", "cat", "nsenter", "unshare", "mount"] {
            try FileManager.default.createSymbolicLink(atPath: bin.appendingPathComponent(applet).path, withDestinationPath: "busybox")
        }
    }
}
