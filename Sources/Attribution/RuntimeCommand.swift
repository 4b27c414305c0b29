/// What one command line of an OCI runtime (`runc`, `crun`) asks for: which container,
/// and whether it starts the container's first process or a process inside it.
///
/// Container runtimes run these commands for every container and every exec, and the
/// audit stream carries their argv. A process that the runtime starts and that exits
/// before anyone reads its `/proc` entry is attributed from them: its container is in
/// the argv of its runtime parent, whatever happens to the process after.
package struct RuntimeCommand: Sendable, Equatable {
    package enum Action: Sendable, Equatable {
        /// `create` or `run`: starts the container's first process.
        case start
        /// `exec`: starts a process inside a running container (`kubectl exec`).
        case exec
        /// `init`: the runtime's own helper that enters the container and becomes its process.
        case initHelper
        /// `start`, `delete`, `kill`, `state`, … of an existing container: starts no process.
        case manage
    }

    package var action: Action
    /// The container the command names; nil for `init`.
    package var containerID: String?
    /// `--root`: the runtime's state directory (nil: the runtime's default).
    package var root: String?
    /// `--bundle` of `create`/`run` (nil: the runtime's working directory).
    package var bundle: String?
    /// `--pid-file`: where the runtime writes the pid of the process it starts.
    package var pidFile: String?

    /// Options of the runtime and its commands that take a value (urfave/cli and argp
    /// spellings: `--name value`, `--name=value`, `-name value`, `-n value`).
    static let valueOptions: Set<String> = [
        "root", "log", "log-format", "criu", "rootless",
        "bundle", "b", "console-socket", "pid-file", "preserve-fds",
        "cwd", "env", "e", "user", "u", "additional-gids", "g", "process", "p", "process-label", "apparmor", "cap", "c", "cgroup",
    ]

    /// Commands that name an existing container and start no process.
    static let manageCommands: Set<String> = [
        "start", "delete", "kill", "state", "pause", "resume", "ps", "events", "update", "checkpoint", "restore",
    ]

    /// The most arguments read: a runtime's own command lines are short, and anything
    /// longer is not one of them.
    static let argumentLimit = 256

    /// Reads `argv` (with the program name first); nil when it is not a runtime command
    /// that names a container, or is malformed.
    package static func parse(_ argv: [String]) -> RuntimeCommand? {
        guard argv.count >= 2, argv.count <= argumentLimit else { return nil }
        var command: String?
        var root: String?
        var bundle: String?
        var pidFile: String?
        var positional: [String] = []
        var index = 1
        while index < argv.count {
            let argument = argv[index]
            index += 1
            // After the command's first positional argument (the container id), the rest
            // belongs to the process (`runc exec ID cmd -x`).
            if argument == "--" || !positional.isEmpty || !argument.hasPrefix("-") || argument == "-" {
                if argument == "--", positional.isEmpty, command != nil { continue }
                if command == nil { command = argument } else { positional.append(argument) }
                continue
            }
            var name = Substring(argument.drop { $0 == "-" })
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = name[..<equals]
            } else if valueOptions.contains(String(name)) {
                guard index < argv.count else { return nil }
                value = argv[index]
                index += 1
            }
            switch name {
            case "root" where command == nil: root = value
            case "bundle", "b": bundle = value
            case "pid-file": pidFile = value
            default: break
            }
        }
        guard let command else { return nil }
        let action: Action
        switch command {
        case "create", "run": action = .start
        case "exec": action = .exec
        case "init": return RuntimeCommand(action: .initHelper, containerID: nil, root: root, bundle: nil, pidFile: nil)
        case _ where manageCommands.contains(command): action = .manage
        default: return nil
        }
        // create/run name one container, last; exec names it first, then the process.
        guard let id = action == .exec ? positional.first : positional.last, isContainerName(id) else { return nil }
        return RuntimeCommand(action: action, containerID: id, root: root, bundle: bundle, pidFile: pidFile)
    }

    /// Container names as runc and crun accept them: `[A-Za-z0-9_+.-]`, not `.` or `..`.
    static func isContainerName(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 1024, text != ".", text != ".." else { return false }
        return text.utf8.allSatisfy { byte in
            (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "+") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "-")
        }
    }
}
