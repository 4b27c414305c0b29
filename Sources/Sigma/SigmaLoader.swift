import AuditEvents
import YAMLNodes

/// Reads Sigma rule files: each YAML document one rule, compiled whole or refused whole
/// with `file:line:column` and the construct's name, never half-loaded.
package enum SigmaLoader {
    /// A file larger than this is refused unread: a rule is a few kilobytes.
    package static let maxFileBytes = 1 << 20
    /// The most values one detection item may list (a hostile list must not make every
    /// event slow; SigmaHQ's longest lists are a few hundred).
    package static let maxValuesPerItem = 10_000

    /// One file's rules, correlation rules and refusals, in document order.
    package struct Loaded {
        package var rules: [SigmaRule] = []
        package var correlations: [SigmaCorrelation] = []
        package var refusals: [SigmaError] = []
    }

    /// The rules of one file's text, and the refusals, in document order.
    package static func load(_ text: String, file: String) -> Loaded {
        guard text.utf8.count <= maxFileBytes else {
            return Loaded(refusals: [SigmaError(file: file, line: 1, column: 1, construct: "file size",
                                                message: "larger than \(maxFileBytes) bytes; not a Sigma rule file")])
        }
        let documents: [YAMLNode]
        do throws(YAMLError) {
            documents = try YAMLDocument.composeAll(text)
        } catch {
            return Loaded(refusals: [SigmaError(file: file, line: error.mark.line, column: error.mark.column, construct: "YAML",
                                                message: "not valid YAML: \(error.problem)")])
        }
        var loaded = Loaded()
        for document in documents {
            do throws(SigmaError) {
                if let entries = document.mapping, let node = entries.first(where: { $0.key.string == "correlation" })?.value {
                    guard let title = entries.first(where: { $0.key.string == "title" })?.value.string, !title.isEmpty else {
                        throw refuse(document, file, "rule shape", "a rule needs a `title`")
                    }
                    loaded.correlations.append(try SigmaCorrelation.parse(entries, correlation: node, title: title, file: file,
                                                                          line: document.mark.line) { refuse($0, file, $1, $2) })
                } else {
                    loaded.rules.append(try rule(document, file: file))
                }
            } catch {
                loaded.refusals.append(error)
            }
        }
        return loaded
    }

    private static func refuse(_ node: YAMLNode, _ file: String, _ construct: String, _ message: String) -> SigmaError {
        SigmaError(file: file, line: node.mark.line, column: node.mark.column, construct: construct, message: message)
    }

    private static func rule(_ document: YAMLNode, file: String) throws(SigmaError) -> SigmaRule {
        guard let entries = document.mapping else { throw refuse(document, file, "rule shape", "a rule is a mapping") }
        func value(_ key: String) -> YAMLNode? { entries.first { $0.key.string == key }?.value }
        if let action = value("action") {
            throw refuse(action, file, "rule collection action", "rule collections (`action: global`, `repeat`) are not supported")
        }
        guard let titleNode = value("title"), let title = titleNode.string, !title.isEmpty else {
            throw refuse(document, file, "rule shape", "a rule needs a `title`")
        }
        guard let logSourceNode = value("logsource"), let logSourceEntries = logSourceNode.mapping else {
            throw refuse(document, file, "rule shape", "a rule needs a `logsource` mapping")
        }
        func logSourceValue(_ key: String) -> String? { logSourceEntries.first { $0.key.string == key }?.value.string }
        let (product, category, service) = (logSourceValue("product"), logSourceValue("category"), logSourceValue("service"))
        guard let logSource = SigmaLogSource(product: product, category: category, service: service) else {
            let named = [product.map { "product \($0)" }, category.map { "category \($0)" }, service.map { "service \($0)" }]
                .compactMap { $0 }.joined(separator: ", ")
            throw refuse(logSourceNode, file, "logsource \(named)", "nodeaudit supplies no log source \(named)")
        }
        var level = Detection.Level.medium
        if let levelNode = value("level") {
            guard let text = levelNode.string, let parsed = Detection.Level(rawValue: text) else {
                throw refuse(levelNode, file, "level", "`level` is one of \(Detection.Level.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            level = parsed
        }
        var tags: [String] = []
        if let tagsNode = value("tags") {
            guard let items = tagsNode.sequence else { throw refuse(tagsNode, file, "tags", "`tags` is a list") }
            tags = items.compactMap(\.string)
        }
        guard let detectionNode = value("detection"), let detection = detectionNode.mapping else {
            throw refuse(document, file, "rule shape", "a rule needs a `detection` mapping")
        }
        var identifiers: [String] = []
        var searches: [SigmaSearch] = []
        var conditionNode: YAMLNode?
        for (key, node) in detection {
            guard let name = key.string else { throw refuse(key, file, "detection shape", "a detection key is a name") }
            switch name {
            case "condition": conditionNode = node
            case "timeframe": throw refuse(key, file, "timeframe", "`timeframe` belongs to Sigma 1 aggregations; use a correlation rule")
            default:
                identifiers.append(name)
                searches.append(try search(node, logSource: logSource, file: file))
            }
        }
        guard let conditionNode else { throw refuse(detectionNode, file, "detection shape", "the detection has no `condition`") }
        let texts: [(String, YAMLNode)]
        if let text = conditionNode.string {
            texts = [(text, conditionNode)]
        } else if let items = conditionNode.sequence {
            texts = try items.map { (item) throws(SigmaError) -> (String, YAMLNode) in
                guard let text = item.string else { throw refuse(item, file, "condition syntax", "a condition is text") }
                return (text, item)
            }
        } else {
            throw refuse(conditionNode, file, "condition syntax", "a condition is text or a list of texts")
        }
        var conditions: [SigmaCondition] = []
        for (text, node) in texts {
            do throws(SigmaConditionParser.Refusal) {
                var parser = try SigmaConditionParser(text, identifiers: identifiers)
                conditions.append(try parser.parse())
            } catch {
                throw refuse(node, file, error.construct, "condition: \(error.message)")
            }
        }
        return SigmaRule(
            id: value("id")?.string ?? "", name: value("name")?.string, title: title, level: level, tags: tags, status: value("status")?.string,
            logSource: logSource, file: file, line: document.mark.line, searches: searches,
            condition: conditions.count == 1 ? conditions[0] : .or(conditions))
    }

    /// A search identifier's value: a map, a list of maps, or keywords (a list of values,
    /// or one).
    private static func search(_ node: YAMLNode, logSource: SigmaLogSource, file: String) throws(SigmaError) -> SigmaSearch {
        if let entries = node.mapping {
            // `'|all': [a, b]`: keywords with modifiers (a map of one field-less item).
            if entries.count == 1, let key = entries[0].key.string, key.hasPrefix("|") {
                return try keywords(key: entries[0].key, values: entries[0].value, logSource: logSource, file: file)
            }
            return .maps([try map(entries, logSource: logSource, file: file)])
        }
        if let items = node.sequence, !items.isEmpty, items.allSatisfy({ $0.mapping != nil }) {
            return .maps(try items.map { (item) throws(SigmaError) in try map(item.mapping!, logSource: logSource, file: file) })
        }
        let values = node.sequence ?? [node]
        guard values.allSatisfy({ $0.string != nil }) else {
            throw refuse(node, file, "detection shape", "a search is a map, a list of maps, or a list of values")
        }
        guard values.count <= maxValuesPerItem else {
            throw refuse(node, file, "list size", "more than \(maxValuesPerItem) values")
        }
        // An empty search (`selection:` with nothing under it, a draft) would never match:
        // refused, as a field the log source cannot supply is.
        if let empty = values.first(where: \.isNull) {
            throw refuse(empty, file, "detection shape", "a search is empty or a keyword is null")
        }
        // A keyword is searched for in the whole log line: anywhere in any value.
        var modifiers = Modifiers()
        modifiers.position = .contains
        let tests = try values.map { (value) throws(SigmaError) in
            try compile(value, modifiers: modifiers, field: nil, logSource: logSource, file: file)
        }.flatMap { $0 }
        return .keywords(tests, requireAll: false)
    }

    /// A field-less item, `'|modifier…': values`: keywords read with the modifiers that
    /// apply to text (`all`: each value somewhere in the event; `re`, `cased`, a position,
    /// the encodings). Without a position a keyword is found anywhere, as plain keywords are.
    private static func keywords(key: YAMLNode, values node: YAMLNode, logSource: SigmaLogSource,
                                 file: String) throws(SigmaError) -> SigmaSearch {
        let text = key.string ?? ""
        var modifiers = try Self.modifiers(text.split(separator: "|", omittingEmptySubsequences: false).dropFirst(), of: key, file: file)
        if modifiers.exists || modifiers.cidr || modifiers.fieldReference || modifiers.comparison != nil {
            throw refuse(key, file, "keyword modifiers", "`exists`, `cidr`, `fieldref` and comparisons need a field")
        }
        if modifiers.position == .equals { modifiers.position = .contains }
        let tests = try values(node, of: text, modifiers: modifiers, field: nil, logSource: logSource, file: file)
        return .keywords(tests, requireAll: modifiers.all)
    }

    private static func map(_ entries: [(key: YAMLNode, value: YAMLNode)], logSource: SigmaLogSource,
                            file: String) throws(SigmaError) -> [SigmaFieldItem] {
        var items: [SigmaFieldItem] = []
        for (key, node) in entries {
            guard let text = key.string else { throw refuse(key, file, "detection shape", "a field name is text") }
            let parts = text.split(separator: "|", omittingEmptySubsequences: false).map(String.init)
            let name = parts[0]
            let modifiers = try Self.modifiers(parts.dropFirst(), of: key, file: file)
            guard !name.isEmpty else {
                throw refuse(key, file, "keyword modifiers", "a field-less item (`|modifier:`) stands alone in its search, not beside fields")
            }
            guard let field = SigmaFields.number(of: name, in: logSource) else {
                throw refuse(key, file, "field \(name) in \(logSource.rawValue)",
                             "the \(logSource.rawValue) log source has no field `\(name)` (see docs/sigma.md)")
            }
            let tests = try values(node, of: text, modifiers: modifiers, field: field, logSource: logSource, file: file)
            items.append(SigmaFieldItem(field: field, values: tests, requireAll: modifiers.all))
        }
        return items
    }

    /// An item's modifiers, each checked (the parts of its key after the field name).
    private static func modifiers<S: Sequence>(_ names: S, of key: YAMLNode, file: String) throws(SigmaError) -> Modifiers
    where S.Element: StringProtocol {
        var modifiers = Modifiers()
        for name in names {
            do throws(Modifiers.Refusal) {
                try modifiers.add(String(name))
            } catch {
                throw refuse(key, file, error.construct, error.message)
            }
        }
        return modifiers
    }

    /// An item's values (one, or a list of at most `maxValuesPerItem`), compiled.
    private static func values(_ node: YAMLNode, of key: String, modifiers: Modifiers, field: Int?, logSource: SigmaLogSource,
                               file: String) throws(SigmaError) -> [SigmaValueTest] {
        let values = node.sequence ?? [node]
        guard values.count <= maxValuesPerItem else {
            throw refuse(node, file, "list size", "more than \(maxValuesPerItem) values")
        }
        if values.isEmpty { throw refuse(node, file, "detection shape", "`\(key)` lists no value") }
        var tests: [SigmaValueTest] = []
        for value in values {
            tests += try compile(value, modifiers: modifiers, field: field, logSource: logSource, file: file)
        }
        return tests
    }

    /// One value of an item, after its modifiers (some make several: `base64offset`, `windash`).
    private static func compile(_ node: YAMLNode, modifiers: Modifiers, field: Int?, logSource: SigmaLogSource,
                                file: String) throws(SigmaError) -> [SigmaValueTest] {
        guard let text = node.string else { throw refuse(node, file, "detection shape", "a value is a scalar") }
        if node.isNull && modifiers.isEmpty {
            return [.null]
        }
        if modifiers.exists {
            guard node.isPlain, text == "true" || text == "false" else {
                throw refuse(node, file, "modifier exists", "`|exists` takes true or false")
            }
            return [.exists(text == "true")]
        }
        if let comparison = modifiers.comparison {
            guard let number = Double(text) else {
                throw refuse(node, file, "modifier \(modifiers.comparisonName)", "`|\(modifiers.comparisonName)` takes a number")
            }
            return [.compare(comparison, number)]
        }
        if modifiers.cidr {
            guard let network = SigmaCIDR(text) else { throw refuse(node, file, "modifier cidr", "`\(text)` is not an IPv4 or IPv6 network") }
            return [.cidr(network)]
        }
        if let flags = modifiers.regex {
            do throws(SigmaRegex.Refusal) {
                return [.regex(try SigmaRegex(text, flags: flags))]
            } catch {
                throw refuse(node, file, error.construct, error.message)
            }
        }
        if modifiers.fieldReference {
            guard let other = SigmaFields.number(of: text, in: logSource) else {
                throw refuse(node, file, "field \(text) in \(logSource.rawValue)", "`|fieldref` names `\(text)`, which the \(logSource.rawValue) log source has no field of")
            }
            return [.fieldReference(field: other, mode: modifiers.position, cased: modifiers.cased)]
        }
        var values = [Array(text.utf8)]
        for transform in modifiers.transforms { values = values.flatMap(transform.apply) }
        let forms = values.map { SigmaValueTest.pattern(SigmaPattern(modifiers.position.wrap($0), cased: modifiers.cased)) }
        // Under `all`, each value must pass in one of its forms, not in all of them.
        return modifiers.all && forms.count > 1 ? [.anyOf(forms)] : forms
    }
}

/// A detection item's modifiers, checked as they are added.
struct Modifiers {
    struct Refusal: Error {
        var construct: String
        var message: String
    }

    var position = SigmaPosition.equals
    var transforms: [SigmaTransform] = []
    var all = false
    var cased = false
    var exists = false
    var cidr = false
    var fieldReference = false
    var comparison: SigmaComparison?
    /// The comparison's modifier as written (`lt`, `gte`…).
    var comparisonName = ""
    var regex: SigmaRegex.Flags?
    private var names: [String] = []

    var isEmpty: Bool { names.isEmpty }

    mutating func add(_ name: String) throws(Refusal) {
        names.append(name)
        switch name {
        case "contains": position = .contains
        case "startswith": position = .startsWith
        case "endswith": position = .endsWith
        case "all": all = true
        case "cased": cased = true
        case "exists": exists = true
        case "cidr": cidr = true
        case "fieldref": fieldReference = true
        case "lt", "lte", "gt", "gte":
            comparison = ["lt": .less, "lte": .lessOrEqual, "gt": .greater, "gte": .greaterOrEqual][name]
            comparisonName = name
        case "re": regex = regex ?? SigmaRegex.Flags()
        case "i", "m", "s":
            guard regex != nil else { throw Refusal(construct: "modifier \(name)", message: "`|\(name)` follows `|re`") }
            if name == "i" { regex?.ignoreCase = true }
            if name == "m" { regex?.multiLine = true }
            if name == "s" { regex?.dotAll = true }
        case "base64": transforms.append(.base64)
        case "base64offset": transforms.append(.base64Offset)
        case "windash": transforms.append(.windash)
        default:
            throw Refusal(construct: "modifier \(name)", message: "the modifier `|\(name)` is not supported")
        }
    }
}

/// A modifier that turns one value into others before it is matched.
enum SigmaTransform {
    case base64, base64Offset, windash

    func apply(_ value: [UInt8]) -> [[UInt8]] {
        switch self {
        case .base64: return [SigmaBase64.encode(value)]
        case .base64Offset: return SigmaBase64.offsets(value)
        case .windash:
            // An option's leading `-` or `/` (at a word's start) may be written `-`, `/`, an
            // en dash, an em dash or a horizontal bar: every combination is a value.
            let variants: [[UInt8]] = [[UInt8(ascii: "-")], [UInt8(ascii: "/")], Array("\u{2013}".utf8), Array("\u{2014}".utf8), Array("\u{2015}".utf8)]
            var results: [[UInt8]] = [[]]
            for (index, byte) in value.enumerated() {
                let isDash = byte == UInt8(ascii: "-") || byte == UInt8(ascii: "/")
                let wordBefore = index > 0 && ByteSet.word.contains(value[index - 1])
                let wordAfter = index + 1 < value.count && ByteSet.word.contains(value[index + 1])
                if isDash && !wordBefore && wordAfter && results.count * variants.count <= 1024 {
                    results = results.flatMap { prefix in variants.map { prefix + $0 } }
                } else {
                    for index in results.indices { results[index].append(byte) }
                }
            }
            return results
        }
    }
}

enum SigmaBase64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let chunk = Array(bytes[index..<min(index + 3, bytes.count)])
            let value = (UInt32(chunk[0]) << 16) | (UInt32(chunk.count > 1 ? chunk[1] : 0) << 8) | UInt32(chunk.count > 2 ? chunk[2] : 0)
            for position in 0..<4 {
                if position <= chunk.count {
                    out.append(alphabet[Int((value >> UInt32(18 - 6 * position)) & 0x3f)])
                } else {
                    out.append(UInt8(ascii: "="))
                }
            }
            index += 3
        }
        return out
    }

    /// The three encodings of `bytes` at offsets 0, 1 and 2 of a larger text, each cut to
    /// the characters that do not depend on the bytes around it (as pySigma cuts them).
    static func offsets(_ bytes: [UInt8]) -> [[UInt8]] {
        let starts = [0, 2, 3]
        let ends = [0, -3, -2]
        return (0..<3).map { shift in
            let encoded = encode(Array(repeating: UInt8(ascii: " "), count: shift) + bytes)
            let trimmed = Array(encoded[starts[shift]...])
            let cut = ends[(bytes.count + shift) % 3]
            return Array(trimmed.prefix(trimmed.count + cut))
        }
    }
}
