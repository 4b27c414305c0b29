import AuditKernel
import AuditRules

/// A kernel audit control channel in memory, for the offline tests of what talks to the
/// kernel: it holds rules and settings as the kernel would, records every call in order,
/// and refuses the changes a test names (as the kernel refuses a rule it cannot take).
package final class StandInAuditChannel: AuditControlChannel {
    package var current: AuditStatus
    package var heldRules: [AuditRuleData]
    /// Every change asked for, in order: `add …`, `delete …`, `set NAME VALUE`, `reset lost`, `lock loginuid`.
    package private(set) var calls: [String] = []
    /// Rules (in `auditctl -l` form) whose addition is refused with EINVAL.
    package var refusedRules: Set<String> = []

    package init(status: AuditStatus, rules: [AuditRuleData] = []) {
        current = status
        heldRules = rules
    }

    package func status() throws(KernelError) -> AuditStatus { current }
    package func rules() throws(KernelError) -> [AuditRuleData] { heldRules }

    package func apply(_ setting: StatusSetting) throws(KernelError) {
        calls.append("set \(setting.name) \(setting.value)")
        switch setting.kind {
        case .enabled: current.enabled = setting.value
        case .failure: current.failure = setting.value
        case .rateLimit: current.rateLimit = setting.value
        case .backlogLimit: current.backlogLimit = setting.value
        default: current.backlogWaitTime = setting.value
        }
    }

    package func resetLost() throws(KernelError) -> UInt32 {
        calls.append("reset lost")
        defer { current.lost = 0 }
        return current.lost
    }

    package func setLoginuidImmutable() throws(KernelError) { calls.append("lock loginuid") }

    package func add(_ rule: EncodedRule) throws(KernelError) {
        let text = RuleFormatter.text(rule.data)
        calls.append("add \(text)")
        if refusedRules.contains(text) { throw KernelError("adding a rule", errno: 22) }
        if rule.prepend { heldRules.insert(rule.data, at: 0) } else { heldRules.append(rule.data) }
    }

    package func delete(_ rule: AuditRuleData) throws(KernelError) {
        calls.append("delete \(RuleFormatter.text(rule))")
        heldRules.removeAll { $0 == rule }
    }

    /// One auditctl rule line (`-a …`, `-w …`), encoded as nodeaudit loads it.
    package static func rule(_ line: String) throws -> EncodedRule {
        let source = RuleSource(file: "test.rules", line: 1, text: line)
        let statements = try RuleFileParser.parseLine(line.split(separator: " ").map(String.init), source: source)
        guard let first = statements.first, case .add(let spec, let prepend) = first else { throw RuleError(source, "not a rule to add") }
        return try RuleEncoder.encode(spec, prepend: prepend, source: source)
    }

    /// The rules held, in `auditctl -l` form.
    package var listing: [String] { heldRules.map(RuleFormatter.text) }
}
