import Configuration
import Foundation
import Testing

@Suite("configuration file, environment and defaults")
struct ConfigurationTests {
    @Test("the documented defaults parse back to the defaults")
    func defaultsRoundTrip() throws {
        var parsed = Configuration()
        try parsed.apply(yaml: Configuration().yaml(), file: "defaults.yaml")
        for setting in Setting.all { #expect(parsed[setting] == setting.defaultValue, "\(setting.key)") }
    }

    @Test("docs/configuration.md shows exactly the defaults nodeaudit has")
    func documentedDefaults() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/configuration.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        #expect(text.contains("```yaml\n" + Configuration().yaml() + "```"), "run `nodeaudit config defaults` and paste it into docs/configuration.md")
        for setting in Setting.all { #expect(text.contains(setting.environmentName), "\(setting.environmentName) is not documented") }
    }

    @Test("a file sets what it names and leaves the rest")
    func fileValues() throws {
        var configuration = Configuration()
        try configuration.apply(yaml: """
            rules:
              files: [/etc/nodeaudit/rules, extra.rules]
              drift_check_seconds: 5
            audit:
              mode: multicast
            output:
              queue_mb: 8
            health:
              listen: "0.0.0.0:9477"
            """, file: "node.yaml")
        #expect(configuration.texts(.ruleFiles) == ["/etc/nodeaudit/rules", "extra.rules"])
        #expect(configuration.number(.driftCheck) == 5)
        #expect(configuration.text(.mode) == "multicast")
        #expect(configuration.integer(.outputQueue) == 8)
        #expect(configuration.text(.healthListen) == "0.0.0.0:9477")
        #expect(configuration.bool(.applyRules) == true)
        #expect(configuration.origins[Setting.outputQueue.key] == "node.yaml:7:3")
    }

    @Test("every mistake is reported with its line and column", arguments: [
        ("rule:\n  files: [x]\n", "f.yaml:1:1: unknown section 'rule' (did you mean 'rules'?)"),
        ("output:\n  queue_mib: 3\n", "f.yaml:2:3: unknown setting 'output.queue_mib' (did you mean 'queue_mb'?)"),
        ("output:\n  queue_mb: lots\n", "f.yaml:2:13: output.queue_mb must be an integer from 1 to 16384, not 'lots'"),
        ("output:\n  queue_mb: 0\n", "f.yaml:2:13: output.queue_mb must be an integer from 1 to 16384, not 0"),
        ("audit:\n  mode: broadcast\n", "f.yaml:2:9: audit.mode must be one of unicast, multicast, not 'broadcast'"),
        ("rules:\n  apply: maybe\n", "f.yaml:2:10: rules.apply must be true or false, not 'maybe'"),
        ("rules:\n  files: {a: b}\n", "f.yaml:2:10: rules.files must be a list of strings"),
        ("events:\n  max_argv_bytes: [1]\n", "f.yaml:2:19: events.max_argv_bytes must be an integer from 1 to 16777216, not a list"),
        ("stats: 5\n", "f.yaml:1:8: section 'stats' must be a mapping of settings"),
        ("- a\n- b\n", "f.yaml:1:1: the configuration must be a mapping of sections"),
        ("rules:\n  files: [a\n", "f.yaml: line 3, column 1: not valid YAML"),
        ("output:\n  queue_mb: 3\n  queue_mb: 4\n", "f.yaml:3:3: 'output.queue_mb' is given twice (first at f.yaml:2:3)"),
        ("rules: {}\nrules:\n  apply: true\n", "f.yaml:2:1: 'rules' is given twice (first at f.yaml:1:1)"),
        (String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000), "nested deeper than 64 levels"),
    ])
    func errors(yaml: String, expected: String) {
        var configuration = Configuration()
        #expect {
            try configuration.apply(yaml: yaml, file: "f.yaml")
        } throws: { error in
            let text = (error as? InvalidConfigurationError)?.description ?? "\(error)"
            return text.hasPrefix(expected) || text.contains(expected)
        }
        #expect(configuration == Configuration(), "nothing is applied from a file with errors")
    }

    @Test("all errors of a file are reported at once")
    func severalErrors() {
        var configuration = Configuration()
        #expect(throws: InvalidConfigurationError.self) { try configuration.apply(yaml: "output:\n  queue_mb: -1\nrules:\n  aply: true\n", file: "f") }
        do {
            try configuration.apply(yaml: "output:\n  queue_mb: -1\nrules:\n  aply: true\n", file: "f")
        } catch {
            #expect(error.errors.map(\.location) == ["f:2:13", "f:4:3"])
        }
    }

    @Test("environment variables override the file; flags are the last layer")
    func layers() throws {
        var configuration = Configuration()
        try configuration.apply(yaml: "output:\n  queue_mb: 8\nattribution:\n  enabled: false\n", file: "f")
        try configuration.apply(environment: [
            "NODEAUDIT_OUTPUT_QUEUE_MB": "16", "NODEAUDIT_RULES_FILES": "a.rules, b.rules", "HOME": "/root",
        ])
        #expect(configuration.integer(.outputQueue) == 16)
        #expect(configuration.texts(.ruleFiles) == ["a.rules", "b.rules"])
        #expect(configuration.bool(.attribution) == false)
        #expect(configuration.origins[Setting.outputQueue.key] == "$NODEAUDIT_OUTPUT_QUEUE_MB")
        try configuration.set(.outputQueue, try Configuration.value(parsing: "32", for: .outputQueue, at: "--output-queue-mb"), origin: "--output-queue-mb")
        #expect(configuration.integer(.outputQueue) == 32)

        var wrong = Configuration()
        let warnings = try wrong.apply(environment: ["NODEAUDIT_OUTPUT_QUEUE": "1"])
        #expect(warnings.map(\.description) == ["$NODEAUDIT_OUTPUT_QUEUE: not a nodeaudit setting, ignored (did you mean 'NODEAUDIT_OUTPUT_QUEUE_MB'?)"])
        #expect(wrong == Configuration())
        #expect(throws: InvalidConfigurationError.self) { try wrong.apply(environment: ["NODEAUDIT_AUDIT_TAKE_OVER": "sometimes"]) }
    }

    @Test("filters and fields from a file: kept in order; a bad one refuses the file, each reported where it was set, and nothing is applied")
    func filtersAndFields() throws {
        var configuration = Configuration()
        try configuration.apply(yaml: """
            events:
              fields: [env=prod, "note=a,b"]
              filters:
                - keep exe=/usr/bin/sudo
                - drop comm=kube-probe*
            """, file: "node.yaml")
        #expect(configuration.filters.map(\.description) == ["keep exe=/usr/bin/sudo", "drop comm=kube-probe*"])
        #expect(configuration.staticFields.map { "\($0.name)=\($0.value)" } == ["env=prod", "note=a,b"])

        var refused = Configuration()
        do throws(InvalidConfigurationError) {
            try refused.apply(yaml: """
                events:
                  fields: [env=prod, "bad name=x"]
                  filters:
                    - keep exe=/usr/bin/sudo
                    - drop user=root
                """, file: "node.yaml")
            Issue.record("a file with a bad filter and a bad field was applied")
        } catch {
            let problems = error.description
            #expect(problems.contains("node.yaml:2:") && problems.contains("'bad name=x'"), "\(problems)")
            #expect(problems.contains("node.yaml:3:") && problems.contains("'drop user=root'"), "\(problems)")
        }
        #expect(refused == Configuration() && refused.filters.isEmpty && refused.staticFields.isEmpty)
    }

    @Test("a list given as text splits at newlines when it has any (repeated flags), else at commas")
    func listSplitting() throws {
        #expect(try Configuration.value(parsing: "a=1,b=2", for: .staticFields, at: "$X") == .texts(["a=1", "b=2"]))
        #expect(try Configuration.value(parsing: "a=1,2\nb=3", for: .staticFields, at: "--field") == .texts(["a=1,2", "b=3"]))
    }
}
