import ArgumentParser
import Configuration
import HostIO
import Logging
import Pipeline

/// A command that sets up its own logging (from its flags or configuration file); the
/// others log as the environment and the defaults say.
protocol BootstrapsLogging {}

/// How nodeaudit's own messages are written (stderr), for every command: `--log-level`
/// and `--log-format`, else `NODEAUDIT_LOG_LEVEL` and `NODEAUDIT_LOG_FORMAT`, else the
/// defaults of the settings table; `run` also reads them from its configuration file.
struct LogArguments: ParsableArguments {
    @Option(help: .setting(.logLevel))
    var logLevel: String?

    @Option(help: .setting(.logFormat))
    var logFormat: String?

    /// The flags given, as configuration values.
    var given: [(setting: Setting, text: String, origin: String)] {
        var given: [(setting: Setting, text: String, origin: String)] = []
        if let logLevel { given.append((.logLevel, logLevel, "--log-level")) }
        if let logFormat { given.append((.logFormat, logFormat, "--log-format")) }
        return given
    }

    /// Sends nodeaudit's messages to stderr as `configuration` says.
    static func bootstrap(_ configuration: Configuration) {
        StderrLogHandler.bootstrap(level: Logger.Level(rawValue: configuration.text(.logLevel)) ?? .info,
                                   format: StderrLogHandler.Format(rawValue: configuration.text(.logFormat)) ?? .text)
    }

    /// Bootstraps from these flags, the environment and the defaults (commands without
    /// a configuration file). A bad value is a usage error.
    func bootstrap() throws {
        try Self.bootstrap(flags: given)
    }

    /// Bootstraps from `flags`, the environment and the defaults.
    static func bootstrap(flags: [(setting: Setting, text: String, origin: String)]) throws {
        var configuration = Configuration()
        do throws(InvalidConfigurationError) {
            _ = try configuration.apply(environment: ProcessEnvironment.variables.filter { $0.key.hasPrefix("NODEAUDIT_LOG_") })
            try configuration.apply(texts: flags)
        } catch {
            throw ValidationError(error.description)
        }
        bootstrap(configuration)
    }
}
