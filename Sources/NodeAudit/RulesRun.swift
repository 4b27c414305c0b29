import HostIO
import AuditKernel
import AuditRules
import Enrichment

/// The `nodeaudit rules …` and `nodeaudit status` commands, on top of the rule language
/// and the kernel client. Output goes to `print` (stdout), problems to `Diagnostics`.
public struct RulesRun {
    public var allowImmutable = false
    public var prune = false
    /// Where the record of the rules nodeaudit loaded is kept (`RuleOwnership`); nil:
    /// nothing is recorded.
    public var stateDirectory: String?
    /// Change only rules the files name or nodeaudit loaded (`run`, which shares the
    /// kernel with other tools), instead of every rule as `auditctl -R` does.
    var sharesKernel = false
    /// A rule to hold first in the exit list (`run`'s own exclusion).
    var leading: EncodedRule?
    /// Where the node's root directory is seen, when not at `/` (`rules.host_root`):
    /// watches are checked and added there.
    var hostRoot: String
    private let diagnostics = Diagnostics()
    private let output: (String) -> Void

    public init(allowImmutable: Bool = false, prune: Bool = false, stateDirectory: String? = nil, hostRoot: String = "",
                output: @escaping (String) -> Void = { print($0) }) {
        self.allowImmutable = allowImmutable
        self.prune = prune
        self.stateDirectory = stateDirectory
        self.hostRoot = hostRoot
        self.output = output
    }

    /// The exit status of a rules command.
    public typealias Outcome = ExitStatus

    /// `1 rule`, `2 rules`.
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    /// `rules check`: parse and encode offline; no kernel, no root.
    public func check(_ paths: [String]) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: true, changesKernel: false) else { return .usage }
        report(wanted)
        var summary = "\(Self.count(wanted.rules.count, "rule")), \(Self.count(wanted.absent.count, "deletion")), "
            + "\(Self.count(wanted.settings.count, "setting")): "
        if wanted.skipped.isEmpty {
            summary += "OK"
        } else {
            summary += "\(Self.count(wanted.skipped.count, "line")) skipped (\(wanted.errorPolicy?.option ?? ""))"
        }
        output(summary + (wanted.warnings.isEmpty ? "" : " (\(Self.count(wanted.warnings.count, "warning")))"))
        return wanted.failedLines ? .failure : .success
    }

    /// `rules diff`: what `apply` would change; drift exits 3.
    public func diff(_ paths: [String]) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: allowImmutable) else { return .usage }
        let plan: RulePlan
        switch self.plan(wanted, ownership: ownership()) {
        case .failure(let failure): return failure.status
        case .success(let planned): plan = planned.plan
        }
        plan.lines.forEach(output)
        return plan.isEmpty ? .success : .drift
    }

    /// What one `apply` changed, for `run`'s `rules_reloaded` event.
    struct Applied {
        var outcome: Outcome
        /// Rules now in the kernel that were not before, and rules gone from it, in
        /// `auditctl -l` form (a rule only moved to restore the order is in neither).
        var added: [String] = []
        var removed: [String] = []
        var failures: [String] = []
        var skipped: [String] = []
    }

    /// `rules apply`: make the kernel hold the files' rules and settings.
    public func apply(_ paths: [String], dryRun: Bool) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: allowImmutable) else { return .usage }
        return applying(wanted, dryRun: dryRun).outcome
    }

    /// Applies rules already read (`run` reads them once, to keep them for drift repair).
    func applying(_ wanted: WantedRules, dryRun: Bool = false) -> Applied {
        var ownership = self.ownership()
        let (plan, control): (RulePlan, AuditControl)
        switch self.plan(wanted, ownership: ownership) {
        case .failure(let failure): return Applied(outcome: failure.status)
        case .success(let planned): (plan, control) = planned
        }
        var applied = Applied(outcome: .success, skipped: wanted.skipped.map(\.description))
        if plan.isEmpty {
            output("no changes: the kernel already holds these rules and settings")
            applied.outcome = wanted.failedLines ? .failure : .success
            return applied
        }
        if dryRun {
            plan.lines.forEach(output)
            applied.outcome = .drift
            return applied
        }
        let result = enact(plan, on: control, ownership: &ownership)
        save(ownership)
        applied.added = result.added
        applied.removed = result.removed
        applied.failures = result.failures
        let failed = wanted.failedLines || (!result.failures.isEmpty && wanted.errorPolicy != .ignoreErrors)
        applied.outcome = failed ? .failure : .success
        // A refusal under -i or -c is one more skipped line, as in auditctl.
        if let policy = wanted.errorPolicy, !result.failures.isEmpty {
            diagnostics.warning("\(Self.count(result.failures.count, "rule")) the kernel refused were skipped "
                + "(\(policy.option)); the rest are loaded")
        }
        return applied
    }

    /// What a plan changed in the kernel.
    struct Enacted {
        /// Rules added and removed, in `auditctl -l` form; a rule only moved (removed and
        /// added again to restore the order) is in neither.
        var added: [String] = []
        var removed: [String] = []
        var settings: [RulePlan.SettingChange] = []
        /// Changes the kernel refused, as `what: why`.
        var failures: [String] = []
    }

    /// Makes a plan's changes one by one, printing each, and keeps the ownership record.
    /// Drift repair and `apply` both go by it.
    func enact(_ plan: RulePlan, on control: AuditControl, ownership: inout RuleOwnership?) -> Enacted {
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
                    diagnostics.error(failures.last!)
                }
            }
        }
        if plan.resetLost { _ = attempt("~ lost: reset to 0") { () throws(KernelError) in try control.resetLost() } }
        if plan.loginuidImmutable { _ = attempt("~ loginuid_immutable: on") { () throws(KernelError) in try control.setLoginuidImmutable() } }
        let moved = Set(added).intersection(removed)
        return Enacted(added: added.filter { !moved.contains($0) }, removed: removed.filter { !moved.contains($0) },
                       settings: settings, failures: failures)
    }

    func save(_ ownership: RuleOwnership?) {
        do throws(RuleOwnership.Failure) { try ownership?.save() } catch {
            diagnostics.error("the record of the rules nodeaudit loaded could not be written: \(error)")
        }
    }

    /// The ownership record, when one is kept; an unreadable one is reported and left alone.
    func ownership() -> RuleOwnership? {
        guard let stateDirectory else { return nil }
        do throws(RuleOwnership.Failure) {
            return try RuleOwnership(directory: stateDirectory)
        } catch {
            diagnostics.error("\(error); the rules nodeaudit loaded are not recorded")
            return nil
        }
    }

    /// `rules list`: the kernel's rules in auditctl form.
    public func list() -> Outcome {
        do throws(KernelError) {
            let rules = try AuditControl().rules()
            if rules.isEmpty { output("No rules") }
            rules.map(RuleFormatter.text).forEach(output)
            return .success
        } catch {
            diagnostics.error(error.description)
            return .failure
        }
    }

    /// `rules delete`: remove the kernel rules that the files name.
    public func delete(_ paths: [String]) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: allowImmutable) else { return .usage }
        let named = Set(wanted.rules.map { RuleFormatter.text($0.data) })
        return deleteRules(ownership(), restoringSettings: false) { named.contains($0) }
    }

    /// `rules delete --all-owned`: remove every rule nodeaudit loaded and put back the
    /// settings it changed, as they were before it came; the record is then removed.
    public func deleteOwned() -> Outcome {
        guard let record = ownership() else {
            diagnostics.error(stateDirectory == nil ? "no state directory is set" : "the ownership record cannot be read; nothing was changed")
            return .failure
        }
        if record.isEmpty { output("nodeaudit owns no rules or settings on this node (\(record.path))") }
        let owned = record.ownedRules
        return deleteRules(record, restoringSettings: true) { owned.contains($0) }
    }

    /// Deletes the kernel's rules that `chosen` picks, keeping `ownership` up to date; with
    /// `restoringSettings`, puts back the settings it found and, when all went well,
    /// forgets it all.
    private func deleteRules(_ record: RuleOwnership?, restoringSettings: Bool, _ chosen: (String) -> Bool) -> Outcome {
        var ownership = record
        defer { save(ownership) }
        do throws(KernelError) {
            let control = try AuditControl()
            var failures = 0
            for rule in try control.rules() {
                let text = RuleFormatter.text(rule)
                guard chosen(text) else { continue }
                do throws(KernelError) {
                    try control.delete(rule)
                    output("- \(text)")
                    ownership?.removed(text)
                } catch {
                    failures += 1
                    diagnostics.error("\(text): \(error)")
                }
            }
            if restoringSettings, let found = ownership?.settingsFound {
                let status = try control.status()
                // Never the lock: it cannot have been in force when nodeaudit changed anything.
                let settings = found.compactMap { StatusSetting(name: $0.name, value: $0.value) }.filter { !$0.isLock }
                // The enabled switch goes last, as in every plan.
                for setting in settings.filter({ !$0.isEnabledSwitch }) + settings.filter(\.isEnabledSwitch) {
                    let current = status.current(setting)
                    guard current != setting.value else { continue }
                    do throws(KernelError) {
                        try control.apply(setting)
                        output("~ \(setting.name): \(current) -> \(setting.value)")
                    } catch {
                        failures += 1
                        diagnostics.error("\(setting.name): \(error)")
                    }
                }
                if failures == 0 { ownership?.clear() }
            }
            return failures == 0 ? .success : .failure
        } catch {
            diagnostics.error(error.description)
            return .failure
        }
    }

    /// `rules install`: copies the shipped rule files into `directory` (created if needed);
    /// a file there with other contents is kept unless `force`.
    public func install(into directory: String, force: Bool) -> Outcome {
        guard let shipped = DefaultRules.shippedDirectory() else {
            diagnostics.error("no Rules/ directory was found beside the nodeaudit binary; nothing to install")
            return .failure
        }
        do {
            try HostFile.createDirectories(directory)
            var kept = 0
            for source in try RuleFiles.expand([shipped]) {
                let name = String(source[source.index(after: source.lastIndex(of: "/") ?? source.startIndex)...])
                let target = directory + "/" + name
                let contents = try HostFile.read(source)
                if let existing = try? HostFile.read(target) {
                    if existing == contents { output("= \(target)"); continue }
                    guard force else {
                        diagnostics.error("\(target) differs from \(source); kept (--force overwrites it)")
                        kept += 1
                        continue
                    }
                }
                try HostFile.write(contents, to: target)
                output("+ \(target)")
            }
            return kept == 0 ? .success : .usage
        } catch {
            diagnostics.error("\(error)")
            return .failure
        }
    }

    /// `status`: the kernel's audit status, as `auditctl -s` or as one JSON object.
    public func status(json: Bool) -> Outcome {
        do throws(KernelError) {
            let status = try AuditControl().status()
            if json {
                output("{" + status.fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}")
            } else {
                status.fields.forEach { output("\($0.0) \($0.1)") }
            }
            return .success
        } catch {
            diagnostics.error(error.description)
            return .failure
        }
    }

    // MARK: -

    private func wantedRules(_ paths: [String], allowImmutable: Bool, changesKernel: Bool = true) -> WantedRules? {
        do throws(RuleLoadFailure) {
            return try RuleFiles.wanted(paths, allowImmutable: allowImmutable, hostRoot: hostRoot)
        } catch {
            let lines = error.description.split(separator: "\n")
            for line in lines { diagnostics.error(String(line)) }
            if case .invalid = error {
                diagnostics.error("\(Self.count(lines.count, "bad line"))" + (changesKernel ? "; nothing was changed" : ""))
            }
            return nil
        }
    }

    /// Prints the files' warnings, and the lines skipped under -c or -i that are not
    /// this host's doing (those are among the warnings) as errors.
    private func report(_ wanted: WantedRules) {
        for warning in wanted.warnings { diagnostics.warning("\(warning)") }
        for line in wanted.skipped where !line.dependsOnHost { diagnostics.error("\(line.source): skipped: \(line.message)") }
    }

    /// Why no plan could be made, as the exit status to end with.
    private struct PlanFailure: Error {
        let status: ExitStatus
    }

    /// The plan for `wanted` against the kernel as it is; `ownership` says which rules a
    /// run sharing the kernel may change.
    private func plan(_ wanted: WantedRules, ownership: RuleOwnership?) -> Result<(plan: RulePlan, control: AuditControl), PlanFailure> {
        report(wanted)
        do throws(KernelError) {
            let control = try AuditControl(pathRoot: hostRoot)
            let status = try control.status()
            if status.isLocked {
                diagnostics.error("the kernel's audit configuration is locked (enabled 2) until reboot; nothing can be changed")
                return .failure(PlanFailure(status: .failure))
            }
            let plan = RulePlan(wanted: wanted, current: try control.rules(), currentSetting: status.current, prune: prune,
                                scope: scope(ownership), leading: leading)
            return .success((plan, control))
        } catch {
            diagnostics.error(error.description)
            return .failure(PlanFailure(status: .failure))
        }
    }

    /// Which kernel rules a plan may change: all (as auditctl), or those the files name
    /// and nodeaudit owns.
    func scope(_ ownership: RuleOwnership?) -> RulePlan.Scope {
        sharesKernel ? .owned(ownership?.ownedRules ?? []) : .everything
    }
}
