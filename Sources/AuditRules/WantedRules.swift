/// What a set of rule files asks of the kernel, every rule encoded and checked.
public struct WantedRules: Sendable {
    /// Rules to be present, in file order, without duplicates.
    public var rules: [EncodedRule] = []
    /// Rules to be absent (`-d`, `-W`).
    public var absent: [EncodedRule] = []
    /// The last value of each setting, with the line that set it.
    public var settings: [(setting: StatusSetting, source: RuleSource)] = []
    /// `-D` without a key: rules the files do not name are removed.
    public var deletesAll = false
    /// `-D -k KEY`: rules with these keys that the files do not name are removed.
    public var deletedKeys: [String] = []
    public var resetLost = false
    /// `--loginuid-immutable`, where it was given.
    public var loginuidImmutable: RuleSource?
    /// What auditctl warns about and applies anyway: a syscall rule without `-F arch=`
    /// (it matches only this machine's default ABI), settings that lock audit until reboot.
    public var warnings: [RuleError] = []

    public init() {}

    /// Encodes every statement. `-e 2` and `--loginuid-immutable` cannot be undone until
    /// reboot; they are refused unless `allowImmutable` is set. Every bad line is reported.
    public init(_ statements: [LocatedStatement], allowImmutable: Bool) throws(RuleFileErrors) {
        var errors: [RuleError] = []
        var seen: Set<String> = []
        for located in statements {
            let source = located.source
            switch located.statement {
            case .add(let spec, let prepend):
                if Self.lacksArch(spec) {
                    warnings.append(RuleError(source, "a syscall rule without -F arch= matches the machine's default ABI only "
                        + "(32-bit syscalls pass unaudited); give -F arch=b64 and add the same rule with -F arch=b32"))
                }
                do throws(RuleError) {
                    let rule = try RuleEncoder.encode(spec, prepend: prepend, source: source)
                    if seen.insert(RuleFormatter.text(rule.data)).inserted { rules.append(rule) }
                } catch { errors.append(error) }
            case .delete(let spec):
                do throws(RuleError) {
                    absent.append(try RuleEncoder.encode(spec, source: source))
                } catch { errors.append(error) }
            case .setting(let setting):
                if case .enabled(2) = setting {
                    guard allowImmutable else {
                        errors.append(RuleError(source, "-e 2 locks the audit configuration until reboot; it is applied only with --allow-immutable"))
                        continue
                    }
                    warnings.append(RuleError(source, "-e 2 locks the audit configuration until reboot: no rule or setting can change, drift repair included"))
                }
                settings.removeAll { $0.setting.name == setting.name }
                settings.append((setting, source))
            case .deleteAll(let key):
                if let key { deletedKeys.append(key) } else { deletesAll = true }
            case .resetLost:
                resetLost = true
            case .loginuidImmutable:
                if !allowImmutable {
                    errors.append(RuleError(source, "--loginuid-immutable cannot be undone until reboot; it is applied only with --allow-immutable"))
                    continue
                }
                warnings.append(RuleError(source, "--loginuid-immutable: no process can change its login uid until reboot"))
                loginuidImmutable = source
            case .errorPolicy:
                break
            }
        }
        if !errors.isEmpty { throw RuleFileErrors(errors: errors) }
    }

    /// A syscall rule on the exit list that names no architecture.
    static func lacksArch(_ spec: RuleSpec) -> Bool {
        let namesSyscalls = spec.parts.contains { if case .syscalls = $0 { true } else { false } }
        let namesArch = spec.parts.contains { if case .field(let field) = $0 { field.hasPrefix("arch=") || field.hasPrefix("arch!=") } else { false } }
        return namesSyscalls && !namesArch
    }
}
