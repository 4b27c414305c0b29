/// What a set of rule files asks of the kernel, every rule encoded and checked.
package struct WantedRules: Sendable {
    /// One change to the kernel's rule lists, in file order: the lists are ordered (a
    /// `never` rule only shadows what comes after it) and auditctl makes these changes
    /// one after another, so their order is kept to reproduce its result exactly.
    package enum Operation: Sendable {
        /// `-D`, or `-D -k KEY`.
        case deleteAll(key: String?)
        /// `-a`, `-A` (prepend), `-w`.
        case add(EncodedRule)
        /// `-d`, `-W`.
        case delete(EncodedRule)
    }

    package var operations: [Operation] = []
    /// The last value of each setting, with the line that set it.
    package var settings: [(setting: StatusSetting, source: RuleSource)] = []
    package var resetLost = false
    /// `--loginuid-immutable`, where it was given.
    package var loginuidImmutable: RuleSource?
    /// What auditctl warns about and applies anyway: a syscall rule without `-F arch=`
    /// (it matches only this machine's default ABI), settings that lock audit until
    /// reboot, a rule given twice, lines skipped under `-i` or `-c` because this host
    /// lacks what they name.
    package var warnings: [RuleError] = []
    /// Lines left out under `-c` or `-i`, with why, in file order.
    package var skipped: [RuleError] = []
    /// The `-c` or `-i` in force at the end of the files (`-i` wins: it was given to succeed).
    package var errorPolicy: ErrorPolicy?

    package init() {}

    /// Rules to be present, in file order, without duplicates.
    package var rules: [EncodedRule] {
        operations.compactMap { if case .add(let rule) = $0 { rule } else { nil } }
    }

    /// Rules to be absent (`-d`, `-W`).
    package var absent: [EncodedRule] {
        operations.compactMap { if case .delete(let rule) = $0 { rule } else { nil } }
    }

    /// `-D` without a key: rules the files do not name are removed.
    package var deletesAll: Bool {
        operations.contains { if case .deleteAll(nil) = $0 { true } else { false } }
    }

    /// Whether the files end with a failure to report in the exit status: lines were
    /// skipped under `-c` (under `-i` the command succeeds, as auditctl's does).
    package var failedLines: Bool { !skipped.isEmpty && errorPolicy != .ignoreErrors }

    /// Checks statements that parsed without error (tests and callers with one file).
    package init(_ statements: [LocatedStatement], allowImmutable: Bool) throws(InvalidRuleFileError) {
        try self.init(lines: statements.map(ParsedLine.statement), allowImmutable: allowImmutable)
    }

    /// Encodes every statement, in order. A line that is wrong, or that names a user,
    /// group or syscall this host lacks, is an error that changes nothing; after `-c` or
    /// `-i` it is skipped instead (a warning when it depends on this host, an error
    /// otherwise) and the rest load. A watch whose directory is missing is a warning; after
    /// `-c` or `-i` it is skipped, else the kernel's refusal fails the command.
    /// `-e 2` and `--loginuid-immutable` cannot be undone until reboot; they are refused
    /// unless `allowImmutable` is set. `hostRoot`: where the node's root directory is seen,
    /// for the watches' directories (empty: `/`).
    package init(lines: [ParsedLine], allowImmutable: Bool, hostRoot: String = "") throws(InvalidRuleFileError) {
        var errors: [RuleError] = []
        var firstSource: [String: RuleSource] = [:]
        func fail(_ error: RuleError) {
            if errorPolicy == nil {
                errors.append(error)
            } else {
                skipped.append(error)
                if error.dependsOnHost { warnings.append(RuleError(error.source, "skipped: \(error.message)", dependsOnHost: true)) }
            }
        }
        for line in lines {
            let located: LocatedStatement
            switch line {
            case .error(let error): fail(error); continue
            case .statement(let statement): located = statement
            }
            let source = located.source
            switch located.statement {
            case .add(let spec, let prepend):
                if Self.lacksArch(spec) {
                    warnings.append(RuleError(source, "a syscall rule without -F arch= matches the machine's default ABI only "
                        + "(32-bit syscalls pass unaudited); give -F arch=b64 and add the same rule with -F arch=b32"))
                }
                do throws(RuleError) {
                    let rule = try RuleEncoder.encode(spec, prepend: prepend, source: source, root: hostRoot)
                    if let missing = RuleEncoder.missingWatchDirectory(spec, root: hostRoot) {
                        let reason = hostRoot.isEmpty || RuleEncoder.isDirectory(hostRoot)
                            ? "the watch needs the directory \(missing), which this host lacks"
                            : "the watch is added under the node's root \(hostRoot), which does not exist here (mount the node's / there)"
                        let lacking = RuleError(source, reason + "; the kernel will refuse it", dependsOnHost: true)
                        // Without -c or -i the kernel is asked anyway, as auditctl does, and
                        // its refusal fails the command; the other rules still load.
                        guard errorPolicy == nil else { throw lacking }
                        warnings.append(lacking)
                    }
                    let text = RuleFormatter.text(rule.data)
                    if let first = firstSource[text] {
                        warnings.append(RuleError(source, "the same rule as \(first); the kernel holds it once"))
                        continue
                    }
                    firstSource[text] = source
                    operations.append(.add(rule))
                } catch { fail(error) }
            case .delete(let spec):
                do throws(RuleError) {
                    operations.append(.delete(try RuleEncoder.encode(spec, source: source, root: hostRoot)))
                } catch { fail(error) }
            case .setting(let setting):
                if setting.isLock {
                    guard allowImmutable else {
                        fail(RuleError(source, "-e 2 locks the audit configuration until reboot; it is applied only with --allow-immutable"))
                        continue
                    }
                    warnings.append(RuleError(source, "-e 2 locks the audit configuration until reboot: no rule or setting can change, drift repair included"))
                }
                settings.removeAll { $0.setting.name == setting.name }
                settings.append((setting, source))
            case .deleteAll(let key):
                operations.append(.deleteAll(key: key))
            case .resetLost:
                resetLost = true
            case .loginuidImmutable:
                if !allowImmutable {
                    fail(RuleError(source, "--loginuid-immutable cannot be undone until reboot; it is applied only with --allow-immutable"))
                    continue
                }
                warnings.append(RuleError(source, "--loginuid-immutable: no process can change its login uid until reboot"))
                loginuidImmutable = source
            case .errorPolicy(let policy):
                if errorPolicy != .ignoreErrors { errorPolicy = policy }
            }
        }
        if !errors.isEmpty { throw InvalidRuleFileError(errors: errors) }
    }

    /// A syscall rule on the exit list that names no architecture.
    static func lacksArch(_ spec: RuleSpec) -> Bool {
        let namesSyscalls = spec.parts.contains { if case .syscalls = $0 { true } else { false } }
        let namesArch = spec.parts.contains { if case .field(let field) = $0 { field.hasPrefix("arch=") || field.hasPrefix("arch!=") } else { false } }
        return namesSyscalls && !namesArch
    }
}
