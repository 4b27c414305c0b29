import Foundation
import Testing
import TestSupport

/// The commands of README.md and Deploy/README.md, block by block: each program exists
/// and takes the flags written there, each kustomization renders, each DaemonSet named
/// exists in its namespace, and what is safe to run here runs. A renamed flag or a moved
/// directory fails here. The commands that build and install (`Scripts/image`,
/// `Scripts/package`, the image's `podman run`, `apt-get install`) are run as written by
/// the kernel tests (ImageKernelTests, PackageKernelTests).
@Suite("README commands")
struct ReadmeCommandTests {
    static let documents = ["README.md", "Deploy/README.md"]

    /// The shell lines of a document's ```sh blocks: continuations joined, comments dropped.
    static func commandLines(_ document: String) throws -> [String] {
        let text = try String(contentsOf: Fixtures.repositoryRoot.appendingPathComponent(document), encoding: .utf8)
        var lines: [String] = []
        var inBlock = false
        var pending = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inBlock = line == "```sh"
                continue
            }
            guard inBlock else { continue }
            var command = String(line)
            if let comment = command.range(of: "  # ") ?? (command.hasPrefix("#") ? command.startIndex..<command.startIndex : nil) {
                command = String(command[..<comment.lowerBound])
            }
            command = command.trimmingCharacters(in: .whitespaces)
            if command.hasSuffix("\\") {
                pending += command.dropLast() + " "
                continue
            }
            command = pending + command
            pending = ""
            if !command.isEmpty { lines.append(command) }
        }
        return lines
    }

    /// The simple commands of a line, as words: `a | b && c` gives three; `x=$(cmd)`
    /// gives `cmd`; quotes group words and are removed.
    static func simpleCommands(_ line: String) -> [[String]] {
        var commands: [[String]] = [[]]
        var word = ""
        var quote: Character?
        var inWord = false
        func endWord() {
            if inWord { commands[commands.count - 1].append(word) }
            word = ""
            inWord = false
        }
        var characters = Array(line)[...]
        while let character = characters.popFirst() {
            if let open = quote {
                if character == open { quote = nil } else { word.append(character) }
                continue
            }
            switch character {
            case "\"", "'": quote = character; inWord = true
            case " ": endWord()
            case "|", ";", "&":
                endWord()
                if character == "&", characters.first == "&" { characters.removeFirst() }
                commands.append([])
            default: word.append(character); inWord = true
            }
        }
        endWord()
        return commands.filter { !$0.isEmpty }.map { words in
            // `name=$(cmd args)`: the command inside.
            guard let first = words.first, let range = first.range(of: "=$(") else { return words }
            var inner = [String(first[range.upperBound...])] + words.dropFirst()
            if let last = inner.last, last.hasSuffix(")") { inner[inner.count - 1] = String(last.dropLast()) }
            return inner.filter { !$0.isEmpty }
        }
    }

    static func flags(_ words: [String]) -> [String] {
        words.filter { $0.hasPrefix("--") }.map { String($0.split(separator: "=", maxSplits: 1)[0]) }
    }

    /// DaemonSets by namespace in every kustomization under Deploy/.
    static func daemonSets() throws -> Set<String> {
        var found: Set<String> = []
        for directory in ["Deploy/base", "Deploy/uninstall", "Deploy/monitoring", "Deploy/registry"] {
            let rendered = try DaemonSetPod.render(Fixtures.repositoryRoot.appendingPathComponent(directory))
            for document in rendered.stdoutText.components(separatedBy: "\n---\n") {
                let lines = document.split(separator: "\n")
                guard lines.contains("kind: DaemonSet") else { continue }
                // The metadata's own name and namespace: two spaces in, under `metadata:`.
                let value = { (key: String) in lines.first { $0.hasPrefix("  \(key): ") }.map { String($0.dropFirst(key.count + 4)) } ?? "" }
                found.insert("\(value("namespace"))/\(value("name"))")
            }
        }
        return found
    }

    /// What is wrong with one command; nil when nothing.
    static func problem(_ words: [String], daemonSets: Set<String>) throws -> String? {
        let root = Fixtures.repositoryRoot
        let program = words[0]
        let arguments = Array(words.dropFirst())
        func missingFlags(in help: String) -> String? {
            let missing = flags(arguments).filter { !help.contains($0) }
            return missing.isEmpty ? nil : "flags not in its help: \(missing)"
        }
        switch program {
        case _ where program.hasPrefix("Scripts/"):
            let script = root.appendingPathComponent(program).path
            guard FileManager.default.isExecutableFile(atPath: script) else { return "\(program) is not an executable script" }
            return missingFlags(in: try String(contentsOfFile: script, encoding: .utf8))
        case "nodeaudit":
            // The longest run of subcommand words whose --help answers.
            var path: [String] = []
            for word in arguments where !word.hasPrefix("-") {
                let help = try NodeAuditBinary.run(path + [word, "--help"])
                guard help.status == 0, help.stdoutText.contains("USAGE: nodeaudit \((path + [word]).joined(separator: " "))") else { break }
                path.append(word)
            }
            let help = try NodeAuditBinary.run(path + ["--help"])
            if let missing = missingFlags(in: help.stdoutText) { return missing }
            if path == ["rules", "check"] || path == ["rules", "show"] {
                let run = try NodeAuditBinary.run(arguments)
                if run.status != 0 { return "failed here: \(run.stderr)" }
            }
            return nil
        case "kubectl":
            var namespace = "default"
            if let index = arguments.firstIndex(of: "-n"), index + 1 < arguments.count { namespace = arguments[index + 1] }
            if let index = arguments.firstIndex(of: "-k"), index + 1 < arguments.count {
                let rendered = try DaemonSetPod.render(root.appendingPathComponent(arguments[index + 1]))
                return rendered.status == 0 ? nil : "kubectl kustomize \(arguments[index + 1]): \(rendered.stderr)"
            }
            if let target = arguments.first(where: { $0.hasPrefix("daemonset/") }) {
                let name = "\(namespace)/\(target.dropFirst("daemonset/".count))"
                guard daemonSets.contains(name) else { return "no DaemonSet \(name) in Deploy/ (there are \(daemonSets.sorted()))" }
                let verbs = arguments.filter { !$0.hasPrefix("-") && $0 != namespace && $0 != target }
                let help = try Command.run(try ReferenceTools.path("kubectl", package: "kubernetes-client"), verbs + ["--help"])
                return help.status == 0 ? missingFlags(in: help.stdoutText) : "kubectl \(verbs.joined(separator: " ")): \(help.stderr)"
            }
            return "a kubectl command this test does not know: teach it"
        case "podman", "ctr":
            var positional = arguments
            if let index = positional.firstIndex(of: "-n"), index + 1 < positional.count { positional.removeSubrange(index...index + 1) }
            let verbs = positional.filter { !$0.hasPrefix("-") }.prefix(program == "ctr" ? 2 : 1)
            let tool = try ReferenceTools.path(program, package: program == "ctr" ? "containerd" : "podman")
            let help = try Command.run(tool, Array(verbs) + ["--help"])
            if help.status != 0 { return "\(program) \(verbs.joined(separator: " ")): \(help.stderr)" }
            if let missing = missingFlags(in: help.stdoutText + help.stderr) { return missing }
            if program == "podman", verbs.first == "run", let image = arguments.first(where: { $0.hasPrefix("localhost/nodeaudit") }) {
                let version = try String(contentsOf: root.appendingPathComponent("Sources/Pipeline/NodeAuditVersion.swift"), encoding: .utf8)
                guard version.contains("\"\(image.dropFirst("localhost/nodeaudit:".count))\"") else { return "\(image) is not the image Scripts/image builds" }
            }
            return nil
        case "apt-get":
            return arguments.first == "install" ? nil : "an apt-get command this test does not know"
        default:
            return "'\(program)': a program this test does not know: teach it"
        }
    }

    @Test("every command of README.md and Deploy/README.md names a real program, flag, directory and DaemonSet", arguments: documents)
    func commands(document: String) throws {
        let lines = try Self.commandLines(document)
        try #require(lines.count >= 5, "\(document): \(lines)")
        let daemonSets = try Self.daemonSets()
        for line in lines {
            for words in Self.simpleCommands(line) {
                if let problem = try Self.problem(words, daemonSets: daemonSets) { Issue.record("\(document): `\(line)`: \(problem)") }
            }
        }
    }

    @Test("the checker fails a renamed flag, a missing directory and an unknown DaemonSet")
    func checkerCanFail() throws {
        let daemonSets = try Self.daemonSets()
        #expect(try Self.problem(["nodeaudit", "rules", "install", "--too", "x"], daemonSets: daemonSets) != nil)
        #expect(try Self.problem(["kubectl", "apply", "-k", "Deploy/nowhere"], daemonSets: daemonSets) != nil)
        #expect(try Self.problem(["kubectl", "-n", "nodeaudit", "rollout", "status", "daemonset/elsewhere"], daemonSets: daemonSets) != nil)
        #expect(try Self.problem(["Scripts/imaging"], daemonSets: daemonSets) != nil)
        #expect(try Self.problem(["nodeaudit", "rules", "install", "--to", "x"], daemonSets: daemonSets) == nil)
        #expect(Self.simpleCommands("image=$(Scripts/image) && podman save \"$image\" | ctr -n k8s.io images import -")
                == [["Scripts/image"], ["podman", "save", "$image"], ["ctr", "-n", "k8s.io", "images", "import", "-"]])
    }
}
