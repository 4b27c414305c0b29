import RuleSync
import HostIO
import AuditKernel
import AuditRules
import Pipeline

/// The `nodeaudit rules …` and `nodeaudit status` commands: they read the files, ask
/// `RuleSync` (the engine `run` uses too) to plan and make the changes, and report: output
/// goes to `print` (stdout), problems to `Diagnostics`, the result to an `ExitStatus`.
struct RulesRun {
    var allowImmutable = false
    private let sync: RuleSync
    private let diagnostics = Diagnostics()
    private let output: (String) -> Void

    init(allowImmutable: Bool = false, prune: Bool = false, stateDirectory: String? = nil, hostRoot: String = "",
         output: @escaping (String) -> Void = { print($0) }) {
        self.allowImmutable = allowImmutable
        self.output = output
        sync = RuleSync(prune: prune, stateDirectory: stateDirectory, hostRoot: hostRoot, diagnostics: diagnostics, output: output)
    }

    typealias Outcome = ExitStatus

    static func count(_ number: Int, _ noun: String) -> String { RuleSync.count(number, noun) }

    /// `rules check`: parse and encode offline; no kernel, no root.
    public func check(_ paths: [String]) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: true, changesKernel: false) else { return .usage }
        sync.report(wanted)
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
    func diff(_ paths: [String]) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: allowImmutable) else { return .usage }
        sync.report(wanted)
        do throws(RuleSync.PlanError) {
            let plan = try sync.plan(wanted, ownership: sync.ownership()).plan
            plan.lines.forEach(output)
            return plan.isEmpty ? .success : .drift
        } catch {
            diagnostics.error(error.description)
            return .failure
        }
    }

    /// `rules apply`: make the kernel hold the files' rules and settings.
    func apply(_ paths: [String], dryRun: Bool) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: allowImmutable) else { return .usage }
        return Self.status(of: sync.apply(wanted, dryRun: dryRun).outcome)
    }

    static func status(of outcome: RuleSync.Outcome) -> ExitStatus {
        switch outcome {
        case .applied: .success
        case .wouldChange: .drift
        case .failed: .failure
        }
    }

    /// `rules list`: the kernel's rules in auditctl form.
    func list() -> Outcome {
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
    func delete(_ paths: [String]) -> Outcome {
        guard let wanted = wantedRules(paths, allowImmutable: allowImmutable) else { return .usage }
        let named = Set(wanted.rules.map { RuleFormatter.text($0.data) })
        return deleteRules(sync.ownership(), restoringSettings: false) { named.contains($0) }
    }

    /// `rules delete --all-owned`: remove every rule nodeaudit loaded and put back the
    /// settings it changed, as they were before it came; the record is then removed.
    func deleteOwned() -> Outcome {
        guard let record = ownershipRecord() else { return .failure }
        let owned = record.ownedRules
        return deleteRules(record, restoringSettings: true) { owned.contains($0) }
    }

    /// `rules delete --all-owned --check`: whether the record still names rules or settings
    /// nodeaudit changed (drift: something is left to remove), changing nothing.
    func ownedLeft() -> Outcome {
        guard let record = ownershipRecord() else { return .failure }
        if record.isEmpty { return .success }
        record.ownedRules.sorted().forEach { output("owned: \($0)") }
        record.settingsFound.forEach { output("to restore: \($0.name) \($0.value)") }
        return .drift
    }

    /// The record of what nodeaudit loaded, saying when it owns nothing; nil (said) when
    /// it cannot be read.
    private func ownershipRecord() -> RuleOwnership? {
        guard let record = sync.ownership() else {
            diagnostics.error(sync.stateDirectory == nil ? "no state directory is set" : "the ownership record cannot be read; nothing was changed")
            return nil
        }
        if record.isEmpty { output("nodeaudit owns no rules or settings on this node (\(record.path))") }
        return record
    }

    /// Deletes the kernel's rules that `chosen` picks, keeping `ownership` up to date; with
    /// `restoringSettings`, puts back the settings it found and, when all went well,
    /// forgets it all.
    private func deleteRules(_ record: RuleOwnership?, restoringSettings: Bool, _ chosen: (String) -> Bool) -> Outcome {
        var ownership = record
        defer { sync.save(ownership) }
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

    /// `rules install`: writes the built-in rule files into `directory` (created if
    /// needed); a file there with other contents is kept unless `force`.
    func install(into directory: String, force: Bool) -> Outcome {
        do {
            try HostFile.createDirectories(directory)
            var kept = 0
            for (name, text) in DefaultRules.files {
                let target = directory + "/" + name
                let contents = Array(text.utf8)
                if let existing = try? HostFile.read(target) {
                    if existing == contents { output("= \(target)"); continue }
                    guard force else {
                        diagnostics.error("\(target) differs from the built-in \(name); kept (--force overwrites it)")
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

    /// `rules show`: the rule files `paths` name, each after a `## FILE` line, as
    /// nodeaudit reads them.
    func show(_ paths: [String]) -> Outcome {
        do {
            for file in try RuleFiles.expand(paths) {
                output("## \(file)")
                let text = try RuleFiles.text(of: file)
                output(text.hasSuffix("\n") ? String(text.dropLast()) : text)
            }
            return .success
        } catch {
            diagnostics.error("\(error)")
            return .usage
        }
    }

    /// `status`: the kernel's audit status, as `auditctl -s` or as one JSON object.
    func status(json: Bool) -> Outcome {
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
        do throws(RuleLoadError) {
            return try RuleFiles.wanted(paths, allowImmutable: allowImmutable, hostRoot: sync.hostRoot)
        } catch {
            let lines = error.description.split(separator: "\n")
            for line in lines { diagnostics.error(String(line)) }
            if case .invalid = error {
                diagnostics.error("\(Self.count(lines.count, "bad line"))" + (changesKernel ? "; nothing was changed" : ""))
            }
            return nil
        }
    }
}
