import Pipeline
import AuditKernel
import AuditRules

/// Makes the kernel hold the rule files' rules and settings: the one engine behind
/// `rules apply`, `run` at start, the hot reload and drift repair. It plans against the
/// kernel as it is, makes the changes one by one, says each on `output`, and keeps the
/// record of what nodeaudit loaded (`RuleOwnership`); the commands only report.
package struct RuleSync {
    /// Remove kernel rules the files do not name (`rules apply --prune`).
    package var prune: Bool
    /// Where the ownership record is kept; nil: nothing is recorded.
    package var stateDirectory: String?
    /// Change only rules the files name or nodeaudit loaded (`run`, which shares the
    /// kernel with other tools), instead of every rule as `auditctl -R` does.
    package var sharesKernel: Bool
    /// A rule to hold first in the exit list (`run`'s own exclusion).
    package var leading: EncodedRule?
    /// Where the node's root directory is seen, when not at `/` (`rules.host_root`).
    package var hostRoot: String
    private let diagnostics: Diagnostics
    private let output: (String) -> Void

    package init(prune: Bool = false, stateDirectory: String? = nil, sharesKernel: Bool = false, hostRoot: String = "",
                diagnostics: Diagnostics = Diagnostics(), output: @escaping (String) -> Void) {
        self.prune = prune
        self.stateDirectory = stateDirectory
        self.sharesKernel = sharesKernel
        self.hostRoot = hostRoot
        self.diagnostics = diagnostics
        self.output = output
    }

    /// How a sync ended.
    package enum Outcome: Sendable, Equatable {
        /// The kernel holds the files' rules and settings (or already did).
        case applied
        /// A dry run: the kernel differs from the files, and nothing was changed.
        case wouldChange
        /// A file had a line that failed, or the kernel refused a change, or no plan could
        /// be made (the kernel unreachable or locked).
        case failed
    }

    /// What one sync changed, for `run`'s `rules_reloaded` event.
    package struct Applied {
        package var outcome: Outcome
        /// Rules now in the kernel that were not before, and rules gone from it, in
        /// `auditctl -l` form (a rule only moved to restore the order is in neither).
        package var added: [String] = []
        package var removed: [String] = []
        package var failures: [String] = []
        package var skipped: [String] = []
    }

    /// Why no plan could be made.
    package enum PlanError: Error, CustomStringConvertible {
        case locked
        case kernel(KernelError)

        package var description: String {
            switch self {
            case .locked: "the kernel's audit configuration is locked (enabled 2) until reboot; nothing can be changed"
            case .kernel(let error): error.description
            }
        }
    }

    /// The plan for `wanted` against the kernel as it is, and the channel to enact it.
    /// `atLoad`: the once-per-load parts (resetting the lost counter, the loginuid lock)
    /// are kept; drift repair leaves them out.
    package func plan(_ wanted: WantedRules, ownership: RuleOwnership?, atLoad: Bool = true) throws(PlanError) -> (plan: RulePlan, control: AuditControl) {
        let control = try Self.kernel { () throws(KernelError) in try AuditControl(pathRoot: hostRoot) }
        return (try plan(wanted, on: control, ownership: ownership, atLoad: atLoad), control)
    }

    /// The plan for `wanted` against what `control` reports now.
    package func plan(_ wanted: WantedRules, on control: some AuditControlChannel, ownership: RuleOwnership?, atLoad: Bool) throws(PlanError) -> RulePlan {
        let status = try Self.kernel { () throws(KernelError) in try control.status() }
        if status.isLocked { throw .locked }
        var plan = RulePlan(wanted: wanted, current: try Self.kernel { () throws(KernelError) in try control.rules() },
                            currentSetting: status.current, prune: prune, scope: scope(ownership), leading: leading)
        if !atLoad {
            plan.resetLost = false
            plan.loginuidImmutable = false
        }
        return plan
    }

    private static func kernel<T>(_ body: () throws(KernelError) -> T) throws(PlanError) -> T {
        do throws(KernelError) { return try body() } catch { throw .kernel(error) }
    }

    /// Applies rules already read; `dryRun` only says what would change.
    package func apply(_ wanted: WantedRules, dryRun: Bool = false) -> Applied {
        report(wanted)
        var ownership = self.ownership()
        let (plan, control): (RulePlan, AuditControl)
        do throws(PlanError) {
            (plan, control) = try self.plan(wanted, ownership: ownership)
        } catch {
            diagnostics.error(error.description)
            return Applied(outcome: .failed)
        }
        var applied = Applied(outcome: .applied, skipped: wanted.skipped.map(\.description))
        if plan.isEmpty {
            output("no changes: the kernel already holds these rules and settings")
            applied.outcome = wanted.failedLines ? .failed : .applied
            return applied
        }
        if dryRun {
            plan.lines.forEach(output)
            applied.outcome = .wouldChange
            return applied
        }
        let result = enact(plan, on: control, ownership: &ownership)
        save(ownership)
        applied.added = result.added
        applied.removed = result.removed
        applied.failures = result.failures
        let failed = wanted.failedLines || (!result.failures.isEmpty && wanted.errorPolicy != .ignoreErrors)
        applied.outcome = failed ? .failed : .applied
        // A refusal under -i or -c is one more skipped line, as in auditctl.
        if let policy = wanted.errorPolicy, !result.failures.isEmpty {
            diagnostics.warning("\(RuleSync.count(result.failures.count, "rule")) the kernel refused were skipped "
                + "(\(policy.option)); the rest are loaded")
        }
        return applied
    }

    /// What a plan changed in the kernel.
    package struct Enacted {
        /// Rules added and removed, in `auditctl -l` form; a rule only moved (removed and
        /// added again to restore the order) is in neither.
        package var added: [String] = []
        package var removed: [String] = []
        package var settings: [RulePlan.SettingChange] = []
        /// Changes the kernel refused, as `what: why`.
        package var failures: [String] = []
    }

    /// Makes a plan's changes one by one, saying each, and keeps the ownership record.
    package func enact(_ plan: RulePlan, on control: some AuditControlChannel, ownership: inout RuleOwnership?) -> Enacted {
        var added: [String] = []
        var removed: [String] = []
        var settings: [RulePlan.SettingChange] = []
        var failures: [String] = []
        func attempt(_ line: String, _ body: () throws(KernelError) -> Void) -> Bool {
            do throws(KernelError) {
                try body()
                output(line)
                return true
            } catch {
                failures.append("\(line.dropFirst(2)): \(error)")
                diagnostics.error("\(line.dropFirst(2)): \(error)")
                return false
            }
        }
        for step in plan.steps {
            switch step {
            case .delete(let deletion):
                if attempt(step.line, { () throws(KernelError) in try control.delete(deletion.rule) }) {
                    removed.append(deletion.text)
                    ownership?.removed(deletion.text)
                }
            case .setting(let change):
                if attempt(step.line, { () throws(KernelError) in try control.apply(change.setting) }) {
                    settings.append(change)
                    ownership?.changing(change.setting.name, from: change.current)
                }
            case .add(let addition):
                do throws(KernelError) {
                    try control.add(addition.rule)
                    output(step.line)
                    added.append(addition.text)
                    ownership?.added(addition.text)
                } catch {
                    failures.append("\(addition.rule.source): the kernel refused '\(addition.text)': \(error)")
                    diagnostics.error(failures[failures.count - 1])
                }
            }
        }
        if plan.resetLost { _ = attempt("~ lost: reset to 0") { () throws(KernelError) in try control.resetLost() } }
        if plan.loginuidImmutable { _ = attempt("~ loginuid_immutable: on") { () throws(KernelError) in try control.setLoginuidImmutable() } }
        let moved = Set(added).intersection(removed)
        return Enacted(added: added.filter { !moved.contains($0) }, removed: removed.filter { !moved.contains($0) },
                       settings: settings, failures: failures)
    }

    package func save(_ ownership: RuleOwnership?) {
        do throws(RuleOwnership.RecordError) { try ownership?.save() } catch {
            diagnostics.error("the record of the rules nodeaudit loaded could not be written: \(error)")
        }
    }

    /// The ownership record, when one is kept; an unreadable one is reported and left alone.
    package func ownership() -> RuleOwnership? {
        guard let stateDirectory else { return nil }
        do throws(RuleOwnership.RecordError) {
            return try RuleOwnership(directory: stateDirectory)
        } catch {
            diagnostics.error("\(error); the rules nodeaudit loaded are not recorded")
            return nil
        }
    }

    /// Which kernel rules a plan may change: all (as auditctl), or those the files name
    /// and nodeaudit owns.
    package func scope(_ ownership: RuleOwnership?) -> RulePlan.Scope {
        sharesKernel ? .owned(ownership?.ownedRules ?? []) : .everything
    }

    /// Says the files' warnings, and the lines skipped under -c or -i that are not this
    /// host's doing (those are among the warnings) as errors.
    package func report(_ wanted: WantedRules) {
        for warning in wanted.warnings { diagnostics.warning("\(warning)") }
        for line in wanted.skipped where !line.dependsOnHost { diagnostics.error("\(line.source): skipped: \(line.message)") }
    }

    /// `1 rule`, `2 rules`.
    package static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }
}
