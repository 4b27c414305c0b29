import HostIO
import AuditEvents
import Output
import YAMLNodes

/// The settings of one `nodeaudit run`, built in layers: the defaults, then a YAML file,
/// then `NODEAUDIT_*` environment variables, then command-line flags; a later layer wins.
package struct Configuration: Sendable, Equatable {
    private var values: [String: Value]
    /// Where each value came from (`default`, `FILE:LINE`, `$NODEAUDIT_…`, `--flag`).
    package private(set) var origins: [String: String]
    /// The settings whose texts are rules of their own, parsed when they are set: a
    /// configuration never holds one that does not parse.
    package private(set) var filters: [EventFilter] = []
    package private(set) var labelRules: [LabelRule] = []
    /// What each output leaves out of its events (`output.*_omit`), by output name;
    /// outputs without any are absent.
    package private(set) var omissions: [String: FieldOmission] = [:]
    private var fields: [StaticField] = []

    /// One of `events.fields`: a name a log store takes as a field name, and its value.
    struct StaticField: Sendable, Equatable {
        var name: String
        var value: String
    }

    package init() {
        values = Dictionary(uniqueKeysWithValues: Setting.all.map { ($0.key, $0.defaultValue) })
        origins = Dictionary(uniqueKeysWithValues: Setting.all.map { ($0.key, "default") })
    }

    /// The same settings from the same places (the parsed ones follow from the values).
    package static func == (a: Configuration, b: Configuration) -> Bool { a.values == b.values && a.origins == b.origins }

    package subscript(setting: Setting) -> Value { values[setting.key] ?? setting.defaultValue }

    package func bool(_ setting: Setting) -> Bool { if case .bool(let v) = self[setting] { v } else { false } }
    package func integer(_ setting: Setting) -> Int { if case .integer(let v) = self[setting] { v } else { 0 } }
    package func number(_ setting: Setting) -> Double { if case .number(let v) = self[setting] { v } else { 0 } }
    package func text(_ setting: Setting) -> String { if case .text(let v) = self[setting] { v } else { "" } }
    /// Whether the setting was given (file, environment or flag) rather than left at its default.
    package func isSet(_ setting: Setting) -> Bool { (origins[setting.key] ?? "default") != "default" }
    package func texts(_ setting: Setting) -> [String] { if case .texts(let v) = self[setting] { v } else { [] } }

    /// Sets a value already checked against its setting's kind; a filter, label, omission
    /// or field that does not parse is refused with where it was set, and nothing changes.
    package mutating func set(_ setting: Setting, _ value: Value, origin: String) throws(ConfigurationError) {
        if case .texts(let texts) = value { try parseRules(texts, of: setting, origin: origin) }
        values[setting.key] = value
        origins[setting.key] = origin
    }

    private mutating func parseRules(_ texts: [String], of setting: Setting, origin: String) throws(ConfigurationError) {
        func refused(_ message: some CustomStringConvertible) -> ConfigurationError { ConfigurationError(origin, "\(setting.key): \(message)") }
        switch setting.key {
        case Setting.filters.key:
            filters = try texts.map { (text) throws(ConfigurationError) in
                do throws(FilterSyntaxError) { return try EventFilter.parse(text) } catch { throw refused(error) }
            }
        case Setting.labels.key:
            labelRules = try texts.map { (text) throws(ConfigurationError) in
                do throws(FilterSyntaxError) { return try LabelRule.parse(text) } catch { throw refused(error) }
            }
        case Setting.staticFields.key:
            fields = try texts.enumerated().map { (position, text) throws(ConfigurationError) in
                guard let field = Self.staticField(text) else {
                    throw refused("item \(position + 1), '\(text)', is not `name=value` with a flat name of letters, digits, _ and - "
                                  + "(ECS labels are one level: team_name, not team.name)")
                }
                return StaticField(name: field.name, value: field.value)
            }
        default:
            guard let output = Setting.omissions.first(where: { $0.setting.key == setting.key })?.output else { return }
            do throws(FieldOmissionError) {
                omissions[output] = texts.isEmpty ? nil : try FieldOmission(paths: texts)
            } catch {
                throw refused(error)
            }
        }
    }

    /// Applies checked values as one layer: all of them, or (when any is refused) none.
    mutating func apply(layer: [(Setting, Value, String)], errors: [ConfigurationError]) throws(InvalidConfigurationError) {
        var errors = errors
        var next = self
        for (setting, value, origin) in layer {
            do throws(ConfigurationError) { try next.set(setting, value, origin: origin) } catch { errors.append(error) }
        }
        guard errors.isEmpty else { throw InvalidConfigurationError(errors) }
        self = next
    }

    /// The whole configuration as a YAML file, each setting with its meaning; with
    /// `origins`, also where its value came from. Secret values are masked unless
    /// `revealingSecrets`.
    package func yaml(showingOrigins: Bool = false, revealingSecrets: Bool = false) -> String {
        var text = ""
        var section = ""
        for setting in Setting.all {
            if setting.section != section {
                section = setting.section
                text += (text.isEmpty ? "" : "\n") + "\(section):\n"
            }
            text += "  # \(setting.help)\n"
            let value = setting.isSecret && !revealingSecrets ? Self.masked(self[setting]) : self[setting]
            var line = "  \(setting.name): \(value)"
            if showingOrigins { line += "  # from \(origins[setting.key] ?? "default")" }
            text += line + "\n"
        }
        return text
    }
}

extension Configuration {
    /// A secret value with what follows `Name:` (or all of it) replaced by `***`.
    static func masked(_ value: Value) -> Value {
        func mask(_ text: String) -> String {
            guard !text.isEmpty else { return text }
            guard let colon = text.firstIndex(of: ":") else { return "***" }
            return String(text[...colon]) + " ***"
        }
        switch value {
        case .text(let text): return .text(mask(text))
        case .texts(let texts): return .texts(texts.map(mask))
        default: return value
        }
    }

    /// `events.fields`, each as name and value.
    package var staticFields: [(name: String, value: String)] { fields.map { ($0.name, $0.value) } }

    /// `rules.host_root`, empty when it is `/` (the node's root is this process's own).
    package var hostRoot: String { text(.hostRoot) == "/" ? "" : text(.hostRoot) }


    /// `name=value`; nil when it is not that shape or the name is not one every log store
    /// takes as a flat field name (letters, digits, `_`, `-`: an ECS label has no dots).
    static func staticField(_ text: String) -> (name: String, value: String)? {
        guard let equals = text.firstIndex(of: "=") else { return nil }
        let name = text[..<equals]
        guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-".contains($0)) }) else { return nil }
        return (String(name), String(text[text.index(after: equals)...]))
    }

    /// What no single setting's type can say: settings that exclude or need each other,
    /// and values that would break a protocol. `run` and `config check` both refuse a
    /// configuration with any of these, so a checked file is one `run` accepts.
    package func problems() -> [ConfigurationError] {
        var problems: [ConfigurationError] = []
        func at(_ setting: Setting) -> String { origins[setting.key] ?? "default" }
        if !bool(.stdout), text(.outputFile).isEmpty, text(.syslog).isEmpty, text(.http).isEmpty {
            problems.append(ConfigurationError(at(.stdout), "no output: output.stdout is false and no output.file, output.syslog or output.http is set"))
        }
        if bool(.takeOver), text(.mode) == "multicast" {
            problems.append(ConfigurationError(at(.takeOver), "audit.take_over and audit.mode multicast exclude each other"))
        }
        if text(.syslogCertificate).isEmpty != text(.syslogKey).isEmpty {
            problems.append(ConfigurationError(at(text(.syslogKey).isEmpty ? .syslogCertificate : .syslogKey),
                                               "output.syslog_cert_file and output.syslog_key_file go together"))
        }
        for header in texts(.httpHeaders) {
            let name = header.prefix { $0 != ":" }
            let valid = name.count < header.count && !name.isEmpty
                && name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
                && !header.unicodeScalars.contains { $0 == "\r" || $0 == "\n" }
            if !valid {
                problems.append(ConfigurationError(at(.httpHeaders), "output.http_headers: '\(Self.masked(.text(header)))' is not a `Name: value` header on one line"))
            }
        }
        if !text(.k8sWebhookListen).isEmpty {
            do throws(TCPListenAddress.AddressError) { _ = try TCPListenAddress(text(.k8sWebhookListen)) } catch {
                problems.append(ConfigurationError(at(.k8sWebhookListen), "k8s_audit.webhook_listen: \(error)"))
            }
            let missing = [Setting.k8sWebhookCertificate, .k8sWebhookKey, .k8sWebhookClientCA].filter { text($0).isEmpty }.map(\.key)
            if !missing.isEmpty {
                problems.append(ConfigurationError(at(.k8sWebhookListen), "k8s_audit.webhook_listen needs \(missing.joined(separator: ", ")): "
                    + "the webhook serves HTTPS only, to clients with a certificate the client CA signed"))
            }
        }
        if text(.profile) == "compact", text(.format) == "ecs" {
            problems.append(ConfigurationError(at(.profile), "events.profile compact is a form of the native format; ECS events keep their fields"))
        }
        return problems
    }
}

/// A problem with a configuration, said with where it is.
package struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `FILE:LINE:COLUMN`, `$NODEAUDIT_…` or `--flag`.
    package var location: String
    package var message: String
    package var description: String { "\(location): \(message)" }

    package init(_ location: String, _ message: String) {
        self.location = location
        self.message = message
    }
}

extension Configuration {
    /// Applies a YAML configuration file: a mapping of sections, each a mapping of
    /// settings. Unknown sections or settings, wrong types and out-of-range values are
    /// errors with their line and column; nothing is applied when there is any.
    package mutating func apply(yaml: String, file: String) throws(InvalidConfigurationError) {
        var errors: [ConfigurationError] = []
        var layer: [(Setting, Value, String)] = []
        func at(_ node: YAMLNode) -> String { "\(file):\(node.mark.line):\(node.mark.column)" }

        let root: YAMLNode?
        do throws(YAMLError) {
            root = try YAMLDocument.compose(yaml)
        } catch {
            throw InvalidConfigurationError([ConfigurationError(file, error.description)])
        }
        guard let root else { return }  // An empty file changes nothing.
        guard let sections = root.mapping else {
            throw InvalidConfigurationError([ConfigurationError(at(root), "the configuration must be a mapping of sections (rules:, audit:, …)")])
        }
        let known = Set(Setting.all.map(\.section))
        errors += Self.duplicateKeys(sections, at: at)
        for (sectionKey, sectionNode) in sections {
            guard let section = sectionKey.string, known.contains(section) else {
                errors.append(ConfigurationError(at(sectionKey), "unknown section '\(sectionKey.string ?? "?")'"
                    + Self.suggestion(sectionKey.string ?? "", among: known.sorted())))
                continue
            }
            if sectionNode.isNull { continue }
            guard let entries = sectionNode.mapping else {
                errors.append(ConfigurationError(at(sectionNode), "section '\(section)' must be a mapping of settings"))
                continue
            }
            let settings = Setting.all.filter { $0.section == section }
            errors += Self.duplicateKeys(entries, at: at, in: section + ".")
            for (nameKey, valueNode) in entries {
                let name = nameKey.string ?? ""
                guard let setting = settings.first(where: { $0.name == name }) else {
                    errors.append(ConfigurationError(at(nameKey), "unknown setting '\(section).\(name)'"
                        + Self.suggestion(name, among: settings.map(\.name))))
                    continue
                }
                do throws(ConfigurationError) {
                    layer.append((setting, try Self.value(of: valueNode, for: setting, at: at(valueNode)), at(nameKey)))
                } catch {
                    errors.append(error)
                }
            }
        }
        try apply(layer: layer, errors: errors)
    }

    /// The environment variable that names the configuration file.
    package static let fileVariable = "NODEAUDIT_CONFIG"

    /// Applies `NODEAUDIT_SECTION_NAME` variables; lists are comma-separated. Returns
    /// warnings for `NODEAUDIT_*` variables that name no setting (likely typos).
    @discardableResult
    package mutating func apply(environment: [String: String]) throws(InvalidConfigurationError) -> [ConfigurationError] {
        let names = Dictionary(uniqueKeysWithValues: Setting.all.map { ($0.environmentName, $0) })
        var warnings: [ConfigurationError] = []
        var given: [(Setting, String, String)] = []
        for (name, text) in environment.sorted(by: { $0.key < $1.key }) where name.hasPrefix("NODEAUDIT_") && name != Self.fileVariable {
            guard let setting = names[name] else {
                warnings.append(ConfigurationError("$\(name)", "not a nodeaudit setting, ignored" + Self.suggestion(name, among: names.keys.sorted())))
                continue
            }
            given.append((setting, text, "$\(name)"))
        }
        try apply(texts: given)
        return warnings
    }

    /// Applies values given as text, each with where it came from (`--flag`, `$VARIABLE`);
    /// nothing is applied when any is wrong.
    package mutating func apply(texts: [(setting: Setting, text: String, origin: String)]) throws(InvalidConfigurationError) {
        var errors: [ConfigurationError] = []
        var layer: [(Setting, Value, String)] = []
        for (setting, text, origin) in texts {
            do throws(ConfigurationError) {
                layer.append((setting, try Self.value(parsing: text, for: setting, at: origin), origin))
            } catch {
                errors.append(error)
            }
        }
        try apply(layer: layer, errors: errors)
    }

    /// A value given as text (environment, flags), checked against its setting. A list is
    /// split at newlines when it has any (repeated flags are joined with them, so that an
    /// item may hold a comma), else at commas.
    package static func value(parsing text: String, for setting: Setting, at location: String) throws(ConfigurationError) -> Value {
        switch setting.kind {
        case .texts:
            return .texts(text.split(separator: text.contains("\n") ? "\n" : ",").map(Self.trimmed).filter { !$0.isEmpty })
        case .text, .choice, .address, .url:
            return try checked(.text(text), for: setting, at: location)
        case .bool:
            switch text.lowercased() {
            case "true", "yes", "1", "on": return .bool(true)
            case "false", "no", "0", "off": return .bool(false)
            default: throw ConfigurationError(location, "\(setting.key) must be true or false, not '\(text)'")
            }
        case .integer:
            guard let value = Int(text) else { throw ConfigurationError(location, "\(setting.key) must be \(describe(setting.kind)), not '\(text)'") }
            return try checked(.integer(value), for: setting, at: location)
        case .number:
            guard let value = Double(text), value.isFinite else {
                throw ConfigurationError(location, "\(setting.key) must be \(describe(setting.kind)), not '\(text)'")
            }
            return try checked(.number(value), for: setting, at: location)
        }
    }

    /// A key given twice in one mapping: YAML forbids it, and the later value would
    /// silently win.
    private static func duplicateKeys(_ entries: [(key: YAMLNode, value: YAMLNode)], at: (YAMLNode) -> String,
                                      in prefix: String = "") -> [ConfigurationError] {
        var seen: [String: YAMLNode] = [:]
        var errors: [ConfigurationError] = []
        for (key, _) in entries {
            guard let name = key.string else { continue }
            if let first = seen[name] {
                errors.append(ConfigurationError(at(key), "'\(prefix)\(name)' is given twice (first at \(at(first)))"))
            } else {
                seen[name] = key
            }
        }
        return errors
    }

    private static func value(of node: YAMLNode, for setting: Setting, at location: String) throws(ConfigurationError) -> Value {
        if case .texts = setting.kind {
            if let items = node.sequence {
                var texts: [String] = []
                for item in items {
                    guard let text = item.string, !text.isEmpty else {
                        throw ConfigurationError(location, "\(setting.key) must be a list of strings")
                    }
                    texts.append(text)
                }
                return .texts(texts)
            }
            if let text = node.string, !text.isEmpty { return .texts([text]) }
            throw ConfigurationError(location, "\(setting.key) must be a list of strings")
        }
        guard let scalar = node.string else {
            throw ConfigurationError(location, "\(setting.key) must be \(describe(setting.kind)), not a \(node.mapping != nil ? "mapping" : "list")")
        }
        if case .text = setting.kind { return .text(scalar) }
        if case .choice = setting.kind { return try checked(.text(scalar), for: setting, at: location) }
        if case .address = setting.kind { return try checked(.text(scalar), for: setting, at: location) }
        if case .url = setting.kind { return try checked(.text(scalar), for: setting, at: location) }
        // YAML's plain scalars (true, 42, 1.5) are read by the setting's kind, so that a
        // quoted "42" is refused where a number is wanted only if it is not a number.
        return try value(parsing: scalar, for: setting, at: location)
    }

    private static func checked(_ value: Value, for setting: Setting, at location: String) throws(ConfigurationError) -> Value {
        let allowed: Bool
        switch (setting.kind, value) {
        case (.integer(let range), .integer(let v)): allowed = range.contains(v)
        case (.number(let range), .number(let v)): allowed = range.contains(v)
        case (.choice(let choices), .text(let v)): allowed = choices.contains(v)
        case (.address(let schemes), .text(let v)): allowed = v.isEmpty || isAddress(v, schemes: schemes)
        case (.url(let schemes), .text(let v)): allowed = v.isEmpty || isURL(v, schemes: schemes)
        default: allowed = true
        }
        guard allowed else {
            let shown = if case .text(let text) = value { "'\(text)'" } else { value.description }
            throw ConfigurationError(location, "\(setting.key) must be \(describe(setting.kind)), not \(shown)")
        }
        return value
    }

    /// The text without blanks around it.
    static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }

    /// `SCHEME://HOST:PORT`, HOST not empty, PORT 1-65535.
    static func isAddress(_ text: String, schemes: [String]) -> Bool {
        guard let separator = text.firstRange(of: "://"), schemes.contains(String(text[..<separator.lowerBound])),
              let colon = text.lastIndex(of: ":"), colon > separator.upperBound,
              let port = Int(text[text.index(after: colon)...]), (1...65535).contains(port) else { return false }
        return !text[separator.upperBound..<colon].isEmpty
    }

    /// `SCHEME://HOST[:PORT][/PATH]`, HOST not empty.
    static func isURL(_ text: String, schemes: [String]) -> Bool {
        guard let separator = text.firstRange(of: "://"), schemes.contains(String(text[..<separator.lowerBound])) else { return false }
        let authority = text[separator.upperBound...].prefix { $0 != "/" }
        return isAddress("x://" + authority + (authority.contains(":") && !authority.hasSuffix("]") ? "" : ":1"), schemes: ["x"])
    }

    static func describe(_ kind: Setting.Kind) -> String {
        switch kind {
        case .bool: return "true or false"
        case .integer(let range): return "an integer from \(range.lowerBound) to \(range.upperBound)"
        case .number(let range): return "a number from \(Value.number(range.lowerBound)) to \(Value.number(range.upperBound))"
        case .text: return "a string"
        case .texts: return "a list of strings"
        case .choice(let choices): return "one of \(choices.joined(separator: ", "))"
        case .address(let schemes): return "empty or \(schemes.map { "\($0)://HOST:PORT" }.joined(separator: " or "))"
        case .url(let schemes): return "empty or a \(schemes.joined(separator: " or ")) URL"
        }
    }

    /// ` (did you mean 'x'?)` for a near miss.
    static func suggestion(_ word: String, among candidates: [String]) -> String {
        let scored = candidates.map { ($0, editDistance(word.lowercased(), $0.lowercased())) }.min { $0.1 < $1.1 }
        guard let (best, distance) = scored, distance <= max(2, best.count / 3) else { return "" }
        return " (did you mean '\(best)'?)"
    }

    private static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        var previous = Array(0...b.count)
        for i in 1...max(a.count, 1) where !a.isEmpty {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...max(b.count, 1) where !b.isEmpty {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return a.isEmpty ? b.count : previous[b.count]
    }
}

/// All problems of one configuration source, one per line.
package struct InvalidConfigurationError: Error, Sendable, CustomStringConvertible {
    package var errors: [ConfigurationError]
    package init(_ errors: [ConfigurationError]) { self.errors = errors }
    package var description: String { errors.map(\.description).joined(separator: "\n") }
}
