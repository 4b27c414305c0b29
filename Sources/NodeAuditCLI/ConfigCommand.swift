import ArgumentParser
import Configuration
import Pipeline
import HostIO

/// Builds the configuration from its layers: defaults, the file, `NODEAUDIT_*`
/// variables, flags. Errors name their file, line and column, variable or flag; they are
/// printed on stderr and end the command with exit status 2.
enum ConfigurationLayers {
    static func load(file: String?, flags: [(setting: Setting, text: String, origin: String)],
                     environment: [String: String] = ProcessEnvironment.variables) throws -> Configuration {
        do {
            return try layered(file: file, flags: flags, environment: environment)
        } catch let error as ValidationError {
            ProcessEnvironment.writeToStandardError("nodeaudit: \(error.message)\n")
            throw ExitCode(ExitStatus.usage.rawValue)
        }
    }

    /// The configuration from its layers; throws `ValidationError` with every problem.
    static func layered(file: String?, flags: [(setting: Setting, text: String, origin: String)],
                     environment: [String: String] = ProcessEnvironment.variables) throws -> Configuration {
        var configuration = Configuration()
        do {
            if let path = file ?? environment[Configuration.fileVariable].flatMap({ $0.isEmpty ? nil : $0 }) {
                let data: [UInt8]
                do throws(HostFile.FileError) {
                    data = try HostFile.read(path, limit: 16 << 20, allowingStreams: true)
                } catch {
                    throw ValidationError("cannot read the configuration file \(path): \(error)")
                }
                try configuration.apply(yaml: String(decoding: data, as: UTF8.self), file: path)
            }
            for warning in try configuration.apply(environment: environment) {
                ProcessEnvironment.writeToStandardError("nodeaudit: \(warning)\n")
            }
            try configuration.apply(texts: flags)
        } catch let errors as InvalidConfigurationError {
            throw ValidationError(errors.description)
        }
        let problems = configuration.problems()
        guard problems.isEmpty else { throw ValidationError(InvalidConfigurationError(problems).description) }
        return configuration
    }
}

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config",
        abstract: "Check, show and document nodeaudit's configuration.",
        discussion: """
            Settings come in layers, a later one winning: the defaults, a YAML file \
            (--config or $NODEAUDIT_CONFIG), NODEAUDIT_SECTION_NAME environment variables, \
            and the flags of `nodeaudit run`. docs/configuration.md lists every setting.
            """,
        subcommands: [Check.self, Show.self, Defaults.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Validate a configuration file: every problem with its line and column; exit status 2 when there is one.")

        @Argument(help: "The YAML file.")
        var file: String

        func run() throws {
            _ = try ConfigurationLayers.load(file: file, flags: [], environment: [:])
            print("\(file): ok")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print the configuration `nodeaudit run` would use, and where each value comes from; secrets (header values) masked.")

        @Option(help: "YAML configuration file (default: $NODEAUDIT_CONFIG).")
        var config: String?

        @Flag(help: "Print secret values as they are.")
        var revealSecrets = false

        func run() throws {
            let configuration = try ConfigurationLayers.load(file: config, flags: [])
            print(configuration.yaml(showingOrigins: true, revealingSecrets: revealSecrets), terminator: "")
        }
    }

    struct Defaults: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "defaults",
            abstract: "Print every setting with its default and meaning, as a configuration file.")

        func run() {
            print(Configuration().yaml(), terminator: "")
        }
    }
}
