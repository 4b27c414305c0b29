/// What nodeaudit's exit status says, the same for every command (the README lists them),
/// so that scripts and probes can tell a broken file from a broken node.
enum ExitStatus: Int32, Sendable {
    case success = 0
    /// Something failed while running: the kernel refused, an output failed, a file
    /// could not be read, another audit daemon holds the stream.
    case failure = 1
    /// The command line, the configuration or a rule file is wrong; nothing was changed.
    case usage = 2
    /// `rules diff` or `rules apply --dry-run`: the kernel differs from the files.
    case drift = 3
}
