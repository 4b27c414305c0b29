import HostIO
import AuditKernel
import AuditRules
#if canImport(Glibc)
import Glibc
#endif

/// Keeps the kernel holding nodeaudit's rules and settings while it runs: someone's
/// `auditctl -D` or `-e 0` is undone at the next check, and reported as an event saying
/// what was put back and who changed it (the CONFIG_CHANGE events seen since).
///
/// Only what the rule files ask for is restored; rules other tools added are left alone.
final class DriftRepair {
    /// What the kernel must hold; replaced when the rule files are reloaded.
    var wanted: WantedRules
    private let selfExclusion: EncodedRule?
    private let recorder: ConfigChangeRecorder
    private let node: String?
    private(set) var repairs: UInt64 = 0

    init(wanted: WantedRules, selfExclusion: EncodedRule?, recorder: ConfigChangeRecorder, node: String?) {
        self.wanted = wanted
        self.selfExclusion = selfExclusion
        self.recorder = recorder
        self.node = node
    }

    /// Compares the kernel with the wanted state and restores what is missing. `register`
    /// re-registers nodeaudit as the audit daemon when the kernel's audit pid was cleared.
    func check(_ control: AuditControl, unicast: Bool, register: () throws(KernelError) -> Void) throws(KernelError) -> DriftReport? {
        let status = try control.status()
        guard status.enabled != 2 else { return nil }  // Locked: nothing can be changed, nothing to report each time.
        let rules = try control.rules()
        var report = DriftReport(epochMilliseconds: WallClock.nowMilliseconds(), node: node)

        func attempt(_ what: String, _ body: () throws(KernelError) -> Void, onSuccess: () -> Void) {
            do throws(KernelError) {
                try body()
                onSuccess()
            } catch {
                report.failures.append("\(what): \(error)")
            }
        }
        if let selfExclusion {
            let text = RuleFormatter.text(selfExclusion.data)
            if !rules.contains(where: { RuleFormatter.text($0) == text }) {
                attempt(text, { () throws(KernelError) in try control.add(selfExclusion) }) { report.restoredRules.append(text) }
            }
        }
        let plan = RulePlan(wanted: wanted, current: rules, currentSetting: status.current, prune: false)
        // Repair restores, never prunes: the plan has no deletions without `prune`.
        for step in plan.steps {
            switch step {
            case .delete: continue
            case .setting(let change):
                attempt(change.setting.name, { () throws(KernelError) in try control.apply(change.setting) }) {
                    report.restoredSettings.append(.init(name: change.setting.name, found: change.current, restored: change.setting.value))
                }
            case .add(let addition):
                attempt(addition.text, { () throws(KernelError) in try control.add(addition.rule) }) { report.restoredRules.append(addition.text) }
            }
        }
        if unicast, status.pid != UInt32(getpid()) {
            if status.pid == 0 {
                attempt("pid", register) { report.restoredSettings.append(.init(name: "pid", found: 0, restored: UInt32(getpid()))) }
            } else {
                report.auditPidTakenBy = status.pid
            }
        }
        report.changes = recorder.takeChanges()
        guard !report.isEmpty else { return nil }
        repairs += 1
        return report
    }
}
