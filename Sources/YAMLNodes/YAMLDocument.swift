import CLibYAML

/// A YAML document as nodes with their places in the file, read through Debian's libyaml:
/// what the configuration and Sigma rules need (mappings, sequences, scalars and how each
/// scalar was written), so every error can say file:line:column. Aliases are resolved by
/// libyaml, and their expansion is bounded (`YAMLDocument.maxNodes`).
package indirect enum YAMLNode: Sendable {
    case scalar(String, plain: Bool, at: YAMLMark)
    case sequence([YAMLNode], at: YAMLMark)
    case mapping([(key: YAMLNode, value: YAMLNode)], at: YAMLMark)

    package var mark: YAMLMark {
        switch self {
        case .scalar(_, _, let mark), .sequence(_, let mark), .mapping(_, let mark): mark
        }
    }

    /// The text of a scalar.
    package var string: String? { if case .scalar(let text, _, _) = self { text } else { nil } }
    /// Whether a scalar was written plain (unquoted, not a block): only then is `null` null.
    package var isPlain: Bool { if case .scalar(_, let plain, _) = self { plain } else { false } }
    /// Whether the node is YAML's null: a plain `null`, `~` or nothing at all.
    package var isNull: Bool { if case .scalar(let text, true, _) = self { ["", "~", "null"].contains(text) } else { false } }
    package var sequence: [YAMLNode]? { if case .sequence(let items, _) = self { items } else { nil } }
    package var mapping: [(key: YAMLNode, value: YAMLNode)]? { if case .mapping(let entries, _) = self { entries } else { nil } }
}

/// A place in the file, counted from 1 as editors do.
package struct YAMLMark: Sendable {
    package var line: Int
    package var column: Int

    package init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// Why a text is not YAML, with where libyaml stopped.
package struct YAMLError: Error, CustomStringConvertible {
    package var mark: YAMLMark
    package var problem: String

    package var description: String { "line \(mark.line), column \(mark.column): not valid YAML: \(problem)" }
}

package enum YAMLDocument {
    /// Deeper nesting than this is refused: a configuration is two levels deep, and a
    /// hostile file must not exhaust the stack.
    package static let maxDepth = 64
    /// More nodes than this, aliases expanded, are refused: ten aliases of ten aliases
    /// of a list (a "billion laughs") must not fill the memory.
    package static let maxNodes = 200_000

    /// The first document of `text`; nil for an empty one.
    package static func compose(_ text: String) throws(YAMLError) -> YAMLNode? {
        try documents(text, limit: 1).first
    }

    /// Every document of `text` (`---` separated), empty ones left out.
    package static func composeAll(_ text: String) throws(YAMLError) -> [YAMLNode] {
        try documents(text, limit: Int.max)
    }

    private static func documents(_ text: String, limit: Int) throws(YAMLError) -> [YAMLNode] {
        var parser = yaml_parser_t()
        guard yaml_parser_initialize(&parser) == 1 else { throw YAMLError(mark: YAMLMark(line: 1, column: 1), problem: "out of memory") }
        defer { yaml_parser_delete(&parser) }
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { (buffer) throws(YAMLError) -> [YAMLNode] in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var nodes: [YAMLNode] = []
            var budget = maxNodes
            while nodes.count < limit {
                var document = yaml_document_t()
                guard yaml_parser_load(&parser, &document) == 1 else { throw error(of: parser) }
                defer { yaml_document_delete(&document) }
                // An empty document is the end of the stream.
                guard let root = yaml_document_get_root_node(&document) else { break }
                nodes.append(try node(root, in: &document, depth: 0, budget: &budget))
            }
            return nodes
        }
    }

    private static func node(_ pointer: UnsafeMutablePointer<yaml_node_t>, in document: inout yaml_document_t,
                             depth: Int, budget: inout Int) throws(YAMLError) -> YAMLNode {
        let node = pointer.pointee
        let mark = YAMLMark(line: Int(node.start_mark.line) + 1, column: Int(node.start_mark.column) + 1)
        guard depth < maxDepth else { throw YAMLError(mark: mark, problem: "nested deeper than \(maxDepth) levels") }
        budget -= 1
        guard budget >= 0 else { throw YAMLError(mark: mark, problem: "more than \(maxNodes) nodes once aliases are expanded") }
        switch node.type {
        case YAML_SCALAR_NODE:
            let scalar = node.data.scalar
            let text = String(decoding: UnsafeBufferPointer(start: scalar.value, count: scalar.length), as: UTF8.self)
            return .scalar(text, plain: scalar.style == YAML_PLAIN_SCALAR_STYLE, at: mark)
        case YAML_SEQUENCE_NODE:
            var items: [YAMLNode] = []
            var item = node.data.sequence.items.start
            while let current = item, current != node.data.sequence.items.top {
                guard let child = yaml_document_get_node(&document, current.pointee) else { break }
                items.append(try self.node(child, in: &document, depth: depth + 1, budget: &budget))
                item = current + 1
            }
            return .sequence(items, at: mark)
        case YAML_MAPPING_NODE:
            var entries: [(key: YAMLNode, value: YAMLNode)] = []
            var pair = node.data.mapping.pairs.start
            while let current = pair, current != node.data.mapping.pairs.top {
                guard let key = yaml_document_get_node(&document, current.pointee.key),
                      let value = yaml_document_get_node(&document, current.pointee.value) else { break }
                entries.append((try self.node(key, in: &document, depth: depth + 1, budget: &budget),
                                try self.node(value, in: &document, depth: depth + 1, budget: &budget)))
                pair = current + 1
            }
            return .mapping(entries, at: mark)
        default:
            return .scalar("", plain: true, at: mark)
        }
    }

    /// libyaml's problem, and the place it stopped.
    private static func error(of parser: yaml_parser_t) -> YAMLError {
        let problem = parser.problem.map { String(cString: $0) } ?? "unreadable"
        let context = parser.context.map { " \(String(cString: $0))" } ?? ""
        return YAMLError(mark: YAMLMark(line: Int(parser.problem_mark.line) + 1, column: Int(parser.problem_mark.column) + 1),
                         problem: problem + context)
    }
}
