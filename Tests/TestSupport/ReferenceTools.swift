import Foundation

/// The reference tools the tests run (`Scripts/setup --test` installs them). A test that
/// needs one and does not find it fails with the tool's name and how to get it; it never
/// passes without having checked.
public enum ReferenceTools {
    public struct Missing: Error, CustomStringConvertible {
        public var tool: String
        public var package: String
        public var description: String { "\(tool) is missing (\(package)): run Scripts/setup --test" }
    }

    /// The path of `tool` on PATH (or in the sbin directories), or `Missing`.
    public static func path(_ tool: String, package: String) throws -> String {
        guard let path = Command.which(tool) else { throw Missing(tool: tool, package: package) }
        return path
    }

    /// The Python of the tools' virtual environment made by `Scripts/setup --test`
    /// (kubernetes-validate, PyYAML, pySigma and its SQLite backend; never the system
    /// interpreter's packages).
    public static func toolsPython() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        let directory = environment["NODEAUDIT_TOOLS"] ?? (cache + "/nodeaudit")
        let python = directory + "/venv/bin/python3"
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Missing(tool: python, package: "kubernetes-validate and pySigma in a virtual environment")
        }
        return python
    }
}
