import RuleSync
import OwnEvents
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
/// Only rules the files name or nodeaudit loaded are touched (`RulePlan.Scope.owned`);
/// rules other tools added are left alone, and so is their place in the lists.
package final class DriftRepair {
    /// What the kernel must hold; replaced when the rule files are reloaded.
    package var wanted: WantedRules
    private let rules: RuleSync
    private let recorder: ConfigChangeRecorder
    private let node: String?
    private(set) var repairs: UInt64 = 0

    /// `rules` plans and makes the changes (with the run's own exclusion as `leading`).
    package init(wanted: WantedRules, rules: RuleSync, recorder: ConfigChangeRecorder, node: String?) {
        self.wanted = wanted
        self.rules = rules
        self.recorder = recorder
        self.node = node
    }

    /// Compares the kernel with the wanted state and restores what is missing. `register`
    /// re-registers nodeaudit as the audit daemon when the kernel's audit pid was cleared.
    package func check(_ control: AuditControl, unicast: Bool, register: () throws(KernelError) -> Void) throws(KernelError) -> DriftReport? {
        let status = try control.status()
        guard !status.isLocked else { return nil }  // Locked: nothing can be changed, nothing to report each time.
        var report = DriftReport(epochMilliseconds: WallClock.nowMilliseconds(), node: node)
        var ownership = rules.ownership()
        let plan: RulePlan
        do throws(RuleSync.PlanError) {
            // The once-per-load parts (the lost counter, the loginuid lock) are not repaired.
            plan = try rules.plan(wanted, on: control, ownership: ownership, atLoad: false)
        } catch {
            switch error {
            case .locked: return nil
            case .kernel(let error): throw error
            }
        }
        if !plan.isEmpty {
            let enacted = rules.enact(plan, on: control, ownership: &ownership)
            rules.save(ownership)
            report.restoredRules = enacted.added
            report.restoredSettings = enacted.settings.map { .init(name: $0.setting.name, found: $0.current, restored: $0.setting.value) }
            report.failures = enacted.failures
        }
        if unicast, status.pid != UInt32(getpid()) {
            if status.pid == 0 {
                do throws(KernelError) {
                    try register()
                    report.restoredSettings.append(.init(name: "pid", found: 0, restored: UInt32(getpid())))
                } catch {
                    report.failures.append("pid: \(error)")
                }
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
