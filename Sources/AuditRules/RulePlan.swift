/// What must change for the kernel to hold the wanted rules and settings; computed by
/// `RulePlan.init(wanted:current:…)` without touching the kernel, so `rules diff`,
/// `--dry-run` and `rules apply` show and do exactly the same thing.
public struct RulePlan: Sendable {
    public struct Deletion: Sendable {
        public var rule: AuditRuleData
        public var text: String
    }

    public struct Addition: Sendable {
        public var rule: EncodedRule
        public var text: String
    }

    public struct SettingChange: Sendable {
        public var setting: StatusSetting
        public var current: UInt32
    }

    public var deletions: [Deletion] = []
    public var additions: [Addition] = []
    /// Settings to change (`steps` puts `enabled` last).
    public var settings: [SettingChange] = []
    public var resetLost = false
    public var loginuidImmutable = false

    /// One change to make, in `steps`.
    public enum Step: Sendable {
        case delete(Deletion)
        case setting(SettingChange)
        case add(Addition)

        /// `- RULE`, `+ RULE` or `~ name: old -> new`.
        public var line: String {
            switch self {
            case .delete(let deletion): "- \(deletion.text)"
            case .add(let addition): "+ \(addition.text)"
            case .setting(let change): "~ \(change.setting.name): \(change.current) -> \(change.setting.value)"
            }
        }
    }

    /// Every change in the order to make it: deletions, settings, additions, and the
    /// `enabled` switch last. `rules apply`, drift repair and `rules diff` all go by it.
    public var steps: [Step] {
        deletions.map(Step.delete)
            + settings.filter { !$0.setting.isEnabledSwitch }.map(Step.setting)
            + additions.map(Step.add)
            + settings.filter(\.setting.isEnabledSwitch).map(Step.setting)
    }

    public var isEmpty: Bool {
        deletions.isEmpty && additions.isEmpty && settings.isEmpty && !resetLost && !loginuidImmutable
    }

    /// Compares wanted rules with the kernel's, in canonical form.
    /// - Parameters:
    ///   - current: the kernel's rules, in its order.
    ///   - currentSetting: the kernel's value of a setting.
    ///   - prune: remove every rule the files do not name (also when a file says `-D`).
    public init(wanted: WantedRules, current: [AuditRuleData], currentSetting: (StatusSetting) -> UInt32, prune: Bool) {
        // The kernel refuses identical rules, so both sides are sets.
        let currentTexts = current.map(RuleFormatter.text)
        let present = Set(currentTexts)
        var wantedTexts: Set<String> = []
        for rule in wanted.rules {
            let text = RuleFormatter.text(rule.data)
            wantedTexts.insert(text)
            if !present.contains(text) { additions.append(Addition(rule: rule, text: text)) }
        }

        let absentTexts = Set(wanted.absent.map { RuleFormatter.text($0.data) })
        let pruneAll = prune || wanted.deletesAll
        let deletedKeys = Set(wanted.deletedKeys)
        for (rule, text) in zip(current, currentTexts) {
            let unwanted = !wantedTexts.contains(text)
            let keyed = !deletedKeys.isDisjoint(with: RuleFormatter.keys(rule))
            if absentTexts.contains(text) || (unwanted && (pruneAll || keyed)) {
                deletions.append(Deletion(rule: rule, text: text))
            }
        }

        for (setting, _) in wanted.settings {
            let value = currentSetting(setting)
            if value != setting.value { settings.append(SettingChange(setting: setting, current: value)) }
        }
        resetLost = wanted.resetLost
        loginuidImmutable = wanted.loginuidImmutable != nil
    }

    /// One line per change: `- RULE`, `+ RULE`, `~ name: old -> new`, in the order
    /// `apply` performs them.
    public var lines: [String] {
        var out = steps.map(\.line)
        if resetLost { out.append("~ lost: reset to 0") }
        if loginuidImmutable { out.append("~ loginuid_immutable: on (until reboot)") }
        return out
    }
}
