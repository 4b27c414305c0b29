import AuditRules

/// The kernel's audit rules and settings at one moment, kept so that a trial run
/// (`nodeaudit run --cleanup`, which `Scripts/run` uses) leaves the kernel exactly as it
/// found it: rules added since are removed, rules removed since come back, and every
/// setting a rule file can change is put back, the enabled flag last.
package struct KernelAuditState: Sendable {
    package let status: AuditStatus
    package let rules: [AuditRuleData]

    package init(status: AuditStatus, rules: [AuditRuleData]) {
        self.status = status
        self.rules = rules
    }

    package static func read(_ control: some AuditControlChannel) throws(KernelError) -> KernelAuditState {
        KernelAuditState(status: try control.status(), rules: try control.rules())
    }

    /// The settings as they were, in the order they are restored: `enabled` goes last,
    /// so that auditing is switched off (if it was off) only once the rules are back.
    package var settings: [StatusSetting] {
        StatusSetting.Kind.all.map { StatusSetting($0, status.current($0)) }
    }

    /// Puts this state back; returns one line per change made and per change refused.
    package func restore(_ control: some AuditControlChannel) -> (changes: [String], failures: [String]) {
        var changes: [String] = []
        var failures: [String] = []
        func attempt(_ what: String, _ body: () throws(KernelError) -> Void) {
            do throws(KernelError) {
                try body()
                changes.append(what)
            } catch {
                failures.append("\(what): \(error)")
            }
        }
        let now: KernelAuditState
        do throws(KernelError) { now = try .read(control) } catch { return ([], [error.description]) }
        let before = Set(rules)
        for rule in now.rules where !before.contains(rule) {
            attempt("- \(RuleFormatter.text(rule))") { () throws(KernelError) in try control.delete(rule) }
        }
        let present = Set(now.rules)
        for rule in rules where !present.contains(rule) {
            let encoded = EncodedRule(data: rule, prepend: false, source: RuleSource(file: "<before>", line: 0, text: RuleFormatter.text(rule)))
            attempt("+ \(encoded.source.text)") { () throws(KernelError) in try control.add(encoded) }
        }
        for setting in settings where now.status.current(setting) != setting.value {
            attempt("~ \(setting.name): \(now.status.current(setting)) -> \(setting.value)") { () throws(KernelError) in
                try control.apply(setting)
            }
        }
        return (changes, failures)
    }
}
