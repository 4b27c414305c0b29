/// What must change for the kernel to hold the wanted rules and settings; computed by
/// `RulePlan.init(wanted:current:…)` without touching the kernel, so `rules diff`,
/// `--dry-run` and `rules apply` show and do exactly the same thing.
package struct RulePlan: Sendable {
    package struct Deletion: Sendable {
        package var rule: AuditRuleData
        package var text: String
    }

    package struct Addition: Sendable {
        /// The rule to send; its `prepend` puts it at the front of its list.
        package var rule: EncodedRule
        package var text: String
    }

    /// Which of the kernel's rules a plan may change.
    package enum Scope: Sendable {
        /// Every rule, as `auditctl -R`: `-D` removes them all.
        case everything
        /// Only rules the files name and rules nodeaudit loaded before (`owned`, by their
        /// `auditctl -l` text); `-D` removes only those, and owned rules the files no longer
        /// name are removed. Other tools' rules stay where they are.
        case owned(Set<String>)
    }

    package struct SettingChange: Sendable {
        package var setting: StatusSetting
        package var current: UInt32
    }

    package var deletions: [Deletion] = []
    package var additions: [Addition] = []
    /// Settings to change (`steps` puts `enabled` last).
    package var settings: [SettingChange] = []
    package var resetLost = false
    package var loginuidImmutable = false

    /// One change to make, in `steps`.
    package enum Step: Sendable {
        case delete(Deletion)
        case setting(SettingChange)
        case add(Addition)

        /// `- RULE`, `+ RULE` or `~ name: old -> new`.
        package var line: String {
            switch self {
            case .delete(let deletion): "- \(deletion.text)"
            case .add(let addition): "+ \(addition.text)"
            case .setting(let change): "~ \(change.setting.name): \(change.current) -> \(change.setting.value)"
            }
        }
    }

    /// Every change in the order to make it: deletions, settings, additions, and the
    /// `enabled` switch last. `rules apply`, drift repair and `rules diff` all go by it.
    package var steps: [Step] {
        deletions.map(Step.delete)
            + settings.filter { !$0.setting.isEnabledSwitch }.map(Step.setting)
            + additions.map(Step.add)
            + settings.filter(\.setting.isEnabledSwitch).map(Step.setting)
    }

    package var isEmpty: Bool {
        deletions.isEmpty && additions.isEmpty && settings.isEmpty && !resetLost && !loginuidImmutable
    }

    /// Compares wanted rules with the kernel's, in canonical form and in order.
    ///
    /// The target is what `auditctl -R` of the files would leave, the file's statements
    /// made one after another on the kernel's current lists (`-D`, `-a` appending, `-A`
    /// prepending, `-d`, a rule already there left in place). Each list then keeps its
    /// longest stretch already in the target's order; the rest is deleted, and added at
    /// the front or the end, so the kernel ends with exactly the target's order.
    /// - Parameters:
    ///   - current: the kernel's rules, in its order.
    ///   - currentSetting: the kernel's value of a setting.
    ///   - prune: remove every rule the files do not name (also when a file says `-D`).
    ///   - scope: which rules may change.
    ///   - leading: a rule to hold first in its list (nodeaudit's own exclusion).
    package init(wanted: WantedRules, current: [AuditRuleData], currentSetting: (StatusSetting) -> UInt32, prune: Bool,
                scope: Scope = .everything, leading: EncodedRule? = nil) {
        let named = Set(wanted.rules.map { RuleFormatter.text($0.data) } + (leading.map { [RuleFormatter.text($0.data)] } ?? []))
        let mayChange: (String) -> Bool
        switch scope {
        case .everything: mayChange = { _ in true }
        case .owned(let owned): mayChange = { named.contains($0) || owned.contains($0) }
        }
        let kernel = current.map { RuleEntry(text: RuleFormatter.text($0), data: $0) }.filter { mayChange($0.text) }

        var target = kernel
        for operation in wanted.operations {
            switch operation {
            case .deleteAll(let key):
                target.removeAll { entry in key.map { RuleFormatter.keys(entry.data).contains($0) } ?? true }
            case .add(let rule):
                let entry = RuleEntry(rule)
                guard !target.contains(where: { $0.text == entry.text }) else { continue }
                if rule.prepend { target.insert(entry, at: 0) } else { target.append(entry) }
            case .delete(let rule):
                let text = RuleFormatter.text(rule.data)
                target.removeAll { $0.text == text }
            }
        }
        if prune { target.removeAll { !named.contains($0.text) } }
        if case .owned(let owned) = scope { target.removeAll { owned.contains($0.text) && !named.contains($0.text) } }
        if let leading {
            let entry = RuleEntry(leading)
            target.removeAll { $0.text == entry.text }
            target.insert(entry, at: 0)
        }

        for list in Set(kernel.map(\.list) + target.map(\.list)).sorted() {
            order(kernel.filter { $0.list == list }, into: target.filter { $0.list == list })
        }
        for (setting, _) in wanted.settings {
            let value = currentSetting(setting)
            if value != setting.value { settings.append(SettingChange(setting: setting, current: value)) }
        }
        resetLost = wanted.resetLost
        loginuidImmutable = wanted.loginuidImmutable != nil
    }

    /// Plans the changes that turn one kernel list into the target list: the longest
    /// stretch of the target whose rules the kernel already holds in that order stays;
    /// what comes before it is prepended (last first), what comes after is appended.
    private mutating func order(_ kernel: [RuleEntry], into target: [RuleEntry]) {
        let position = Dictionary(kernel.enumerated().map { ($1.text, $0) }, uniquingKeysWith: { first, _ in first })
        var best = 0..<0
        var start = 0
        while start < target.count {
            guard var previous = position[target[start].text] else { start += 1; continue }
            var end = start + 1
            while end < target.count, let next = position[target[end].text], next > previous {
                previous = next
                end += 1
            }
            if end - start > best.count { best = start..<end }
            start = end
        }
        let kept = Set(target[best].map(\.text))
        for entry in kernel where !kept.contains(entry.text) {
            deletions.append(Deletion(rule: entry.data, text: entry.text))
        }
        for entry in target[..<best.lowerBound].reversed() {
            additions.append(Addition(rule: entry.rule(prepend: true), text: entry.text))
        }
        for entry in target[best.upperBound...] {
            additions.append(Addition(rule: entry.rule(prepend: false), text: entry.text))
        }
    }

    /// One line per change: `- RULE`, `+ RULE`, `~ name: old -> new`, in the order
    /// `apply` performs them.
    package var lines: [String] {
        var out = steps.map(\.line)
        if resetLost { out.append("~ lost: reset to 0") }
        if loginuidImmutable { out.append("~ loginuid_immutable: on (until reboot)") }
        return out
    }
}

/// A rule in a kernel list, as planned: its canonical text, and the rule to send when it
/// must be added (the files' encoding, or the kernel's own for a rule that only moves).
private struct RuleEntry {
    let text: String
    let data: AuditRuleData
    let source: RuleSource?

    init(text: String, data: AuditRuleData) {
        self.text = text
        self.data = data
        source = nil
    }

    init(_ rule: EncodedRule) {
        text = RuleFormatter.text(rule.data)
        data = rule.data
        source = rule.source
    }

    var list: Int32 { data.list }

    func rule(prepend: Bool) -> EncodedRule {
        EncodedRule(data: data, prepend: prepend, source: source ?? RuleSource(file: "<kernel>", line: 0, text: text))
    }
}
