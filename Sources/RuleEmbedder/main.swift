import Foundation

// RuleEmbedder OUTPUT FILE...: writes OUTPUT, a Swift source holding each rule file's
// name and text, for the EmbedDefaultRules build plugin. Every byte that is not plain
// printable ASCII is escaped, so any file content makes a valid string literal.

/// A Swift string literal with the text's bytes, escaped.
func literal(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\\": result += "\\\\"
        case "\"": result += "\\\""
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case " "..."~": result.unicodeScalars.append(scalar)
        default: result += "\\u{\(String(scalar.value, radix: 16))}"
        }
    }
    return result + "\""
}

let arguments = CommandLine.arguments.dropFirst()
guard let output = arguments.first else {
    FileHandle.standardError.write(Data("usage: RuleEmbedder OUTPUT FILE...\n".utf8))
    exit(2)
}
var source = """
    // Generated at build time by the EmbedDefaultRules plugin from Rules/; not in git.

    /// The rule files of Rules/ as they were when this binary was built, in name order.
    package enum EmbeddedRules {
        package static let files: [(name: String, text: String)] = [

    """
for path in arguments.dropFirst() {
    let url = URL(fileURLWithPath: path)
    let text = try String(contentsOf: url, encoding: .utf8)
    source += "        (\(literal(url.lastPathComponent)), \(literal(text))),\n"
}
source += "    ]\n}\n"
try source.write(toFile: output, atomically: true, encoding: .utf8)
