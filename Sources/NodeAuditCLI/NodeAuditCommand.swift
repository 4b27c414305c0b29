import ArgumentParser
import HostIO
#if canImport(Glibc)
import Glibc
#endif
import Pipeline

@main
struct NodeAuditCommand: ParsableCommand {
    /// Runs the command; a usage error (which ArgumentParser ends with 64) ends with 2,
    /// as `ExitStatus` documents.
    static func main() {
        ProcessEnvironment.prepareAllocator()
        do {
            var command = try parseAsRoot()
            if !(command is BootstrapsLogging) { try LogArguments.bootstrap(flags: []) }
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code == .validationFailure else { exit(withError: error) }
            ProcessEnvironment.writeToStandardError(fullMessage(for: error) + "\n")
            Glibc.exit(ExitStatus.usage.rawValue)
        }
    }

    static let configuration = CommandConfiguration(
        commandName: "nodeaudit",
        abstract: "Linux audit collector for Kubernetes nodes: kernel audit rules, correlated events, container attribution.",
        discussion: """
            nodeaudit turns the kernel's audit records into one JSON event per kernel event, \
            with argv, socket addresses, syscall names and users interpreted.

            Stream live events:          nodeaudit run [--config FILE]
            Read recorded audit logs:    nodeaudit parse /var/log/audit/audit.log
            Check rule files:            nodeaudit rules check Rules/
            Load rules into the kernel:  nodeaudit rules apply Rules/
            Check a configuration file:  nodeaudit config check FILE
            Check Sigma rules:           nodeaudit sigma check DIR
            """,
        version: NodeAuditVersion.string,
        subcommands: [RunCommand.self, ParseCommand.self, RulesCommand.self, StatusCommand.self, HealthCommand.self, ConfigCommand.self, SigmaCommand.self, VersionCommand.self]
    )
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print nodeaudit's version.")

    func run() {
        print("nodeaudit \(NodeAuditVersion.string)")
    }
}
