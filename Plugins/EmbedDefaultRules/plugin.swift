import Foundation
import PackagePlugin

/// Builds the default rules into nodeaudit: the `RuleEmbedder` tool turns every
/// `Rules/*.rules` file into a Swift source of the target, so that a binary copied
/// anywhere (a package, an image, /usr/local/bin) carries the rules it was built with.
@main
struct EmbedDefaultRules: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) throws -> [Command] {
        let rules = context.package.directoryURL.appending(path: "Rules")
        let files = try FileManager.default.contentsOfDirectory(at: rules, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "rules" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedRules.swift")
        return [
            .buildCommand(
                displayName: "Embedding the default rules of Rules/",
                executable: try context.tool(named: "RuleEmbedder").url,
                arguments: [output.path] + files.map(\.path),
                inputFiles: files,
                outputFiles: [output]),
        ]
    }
}
