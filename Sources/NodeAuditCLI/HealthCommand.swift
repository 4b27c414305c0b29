import ArgumentParser
import Configuration
import Health
import Pipeline

/// `nodeaudit health`: asks the running nodeaudit of this container whether it is healthy,
/// over its unix socket (`health.socket`). The DaemonSet's probes run it: with the node's
/// network, an HTTP probe to the port can reach the other pod of a rolling update.
struct HealthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask the running nodeaudit whether it is healthy (exit 0) or not (1), through its health socket.",
        discussion: """
            Prints the answer of /healthz (or --path /metrics). The socket is --socket, else health.socket of \
            the configuration ($\(Configuration.fileVariable), $\(Setting.healthSocket.environmentName)).
            """)

    @Option(help: "The running nodeaudit's health socket (its --health-socket).")
    var socket: String?

    @Option(help: "What to ask for: /healthz or /metrics.")
    var path = "/healthz"

    func run() throws {
        let flags = socket.map { [(Setting.healthSocket, $0, "--socket")] } ?? []
        let socketPath = try ConfigurationLayers.load(file: nil, flags: flags).text(.healthSocket)
        guard !socketPath.isEmpty else { throw ValidationError("no health socket: give --socket or set \(Setting.healthSocket.key)") }
        let answer = HealthProbe.get(path, socketPath: socketPath)
        guard let status = answer.status else {
            Diagnostics().error(answer.body)
            throw ExitCode.failure
        }
        print(answer.body, terminator: answer.body.hasSuffix("\n") || answer.body.isEmpty ? "" : "\n")
        if status != 200 { throw ExitCode.failure }
    }
}
