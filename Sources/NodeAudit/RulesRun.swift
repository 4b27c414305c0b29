import HostIO
import AuditKernel
import AuditRules
import Enrichment

/// The `nodeaudit rules …` and `nodeaudit status` commands, on top of the rule language
/// and the kernel client. Output goes to `print` (stdout), problems to `Diagnostics`.
public struct RulesRun {
    public var allowImmutable = false
    public var prune = false
    private let diagnostics = Diagnostics()
    private let output: (String) -> Void

    public init(allowImmutable: Bool = false, prune: Bool = false, output: @escaping (String) -> Void = { print($0) }) {
        self.allowImmutable = allowImmutable
        self.prune = prune
        self.output = output
    }

    /// The exit status of a rules command.
    public typealias Outcome = ExitStatus

    /// `1 rule`, `2 rules`.
    static func count(_ number: Int, _ noun: String) -> String { "\(number) \(noun)\(number == 1 ? "" : "s")" }

    /// `rules check`: parse and encode offline; no kernel, no root.
    public func check(_ paths: [String]) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: true, changesKernel: false) else { return .usage }
        for warning in wanted.warnings { diagnostics.warning("\(warning)") }
        output("\(Self.count(wanted.rules.count, "rule")), \(Self.count(wanted.absent.count, "deletion")), "
            + "\(Self.count(wanted.settings.count, "setting")): OK"
            + (wanted.warnings.isEmpty ? "" : " (\(Self.count(wanted.warnings.count, "warning")))"))
        return .success
    }

    /// `rules diff`: what `apply` would change; drift exits 3.
    public func diff(_ paths: [String]) -> Outcome {
        let plan: RulePlan
        switch self.plan(paths) {
        case .failure(let failure): return failure.status
        case .success(let planned): plan = planned.plan
        }
        plan.lines.forEach(output)
        return plan.isEmpty ? .success : .drift
    }

    /// `rules apply`: make the kernel hold the files' rules and settings.
    public func apply(_ paths: [String], dryRun: Bool) -> Outcome {
        let (plan, control): (RulePlan, AuditControl)
        switch self.plan(paths) {
        case .failure(let failure): return failure.status
        case .success(let planned): (plan, control) = planned
        }
        if plan.isEmpty {
            output("no changes: the kernel already holds these rules and settings")
            return .success
        }
        if dryRun {
            plan.lines.forEach(output)
            return .drift
        }
        var failures = 0
        func attempt(_ line: String, _ body: () throws(KernelError) -> Void) {
            do throws(KernelError) {
                try body()
                output(line)
            } catch {
                failures += 1
                diagnostics.error("\(line.dropFirst(2)): \(error)")
            }
        }
        for step in plan.steps {
            switch step {
            case .delete(let deletion):
                attempt(step.line) { () throws(KernelError) in try control.delete(deletion.rule) }
            case .setting(let change):
                attempt(step.line) { () throws(KernelError) in try control.apply(change.setting) }
            case .add(let addition):
                do throws(KernelError) {
                    try control.add(addition.rule)
                    output(step.line)
                } catch {
                    failures += 1
                    diagnostics.error("\(addition.rule.source): the kernel refused '\(addition.text)': \(error)")
                }
            }
        }
        if plan.resetLost { attempt("~ lost: reset to 0") { () throws(KernelError) in try control.resetLost() } }
        if plan.loginuidImmutable { attempt("~ loginuid_immutable: on") { () throws(KernelError) in try control.setLoginuidImmutable() } }
        return failures == 0 ? .success : .failure
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
        do throws(KernelError) {
            let control = try AuditControl()
            let managed = Set(wanted.rules.map { RuleFormatter.text($0.data) })
            var failures = 0
            for rule in try control.rules() {
                let text = RuleFormatter.text(rule)
                guard managed.contains(text) else { continue }
                do throws(KernelError) {
                    try control.delete(rule)
                    output("- \(text)")
                } catch {
                    failures += 1
                    diagnostics.error("\(text): \(error)")
                }
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
            return try RuleFiles.wanted(paths, allowImmutable: allowImmutable)
        } catch {
            let lines = error.description.split(separator: "\n")
            for line in lines { diagnostics.error(String(line)) }
            if case .invalid = error {
                diagnostics.error("\(lines.count) bad line\(lines.count == 1 ? "" : "s")" + (changesKernel ? "; nothing was changed" : ""))
            }
            return nil
        }
    }

    /// Why no plan could be made, as the exit status to end with.
    private struct PlanFailure: Error {
        let status: ExitStatus
    }

    private func plan(_ paths: [String]) -> Result<(plan: RulePlan, control: AuditControl), PlanFailure> {
        guard let wanted = wantedRules(paths, allowImmutable: allowImmutable) else { return .failure(PlanFailure(status: .usage)) }
        for warning in wanted.warnings { diagnostics.warning("\(warning)") }
        do throws(KernelError) {
            let control = try AuditControl()
            let status = try control.status()
            if status.enabled == 2 {
                diagnostics.error("the kernel's audit configuration is locked (enabled 2) until reboot; nothing can be changed")
                return .failure(PlanFailure(status: .failure))
            }
            let plan = RulePlan(wanted: wanted, current: try control.rules(), currentSetting: status.current, prune: prune)
            return .success((plan, control))
        } catch {
            diagnostics.error(error.description)
            return .failure(PlanFailure(status: .failure))
        }
    }
}
