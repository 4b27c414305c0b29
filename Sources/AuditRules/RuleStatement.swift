import CAudit

/// One line of an auditctl rule file, understood but not yet encoded for the kernel.
public enum RuleStatement: Sendable, Equatable {
    /// `-D [-k key]`: delete every rule (with that key).
    case deleteAll(key: String?)
    /// `-b`, `-f`, `-r`, `-e`, `--backlog_wait_time`.
    case setting(StatusSetting)
    /// `--reset-lost`.
    case resetLost
    /// `--loginuid-immutable`: cannot be undone until reboot.
    case loginuidImmutable
    /// `-a`, `-A`, `-w`: add a rule.
    case add(RuleSpec, prepend: Bool)
    /// `-d`, `-W`: make sure a rule is absent.
    case delete(RuleSpec)
    /// `-c` or `-i`: from here on, a line that fails is skipped and reported, and the
    /// rest still load (as auditctl does), instead of nothing changing.
    case errorPolicy(ErrorPolicy)
}

/// auditctl's `-c` and `-i`, which public rule sets put at their top so that lines naming
/// what a host lacks (a user, a directory, a syscall) do not keep the rest from loading.
public enum ErrorPolicy: Sendable, Equatable {
    /// `-c`: go on after a failing line; the command still fails in the end.
    case continueOnError
    /// `-i`: go on after a failing line and succeed anyway.
    case ignoreErrors

    /// The option as written, for messages.
    public var option: String {
        switch self {
        case .continueOnError: "-c"
        case .ignoreErrors: "-i"
        }
    }
}

/// A kernel audit setting a rule file can carry.
public enum StatusSetting: Sendable, Equatable, Hashable {
    case enabled(UInt32)
    case failure(UInt32)
    case rateLimit(UInt32)
    case backlogLimit(UInt32)
    case backlogWaitTime(UInt32)

    /// The setting named as `auditctl -s` names it, with a value.
    public init?(name: String, value: UInt32) {
        switch name {
        case "enabled": self = .enabled(value)
        case "failure": self = .failure(value)
        case "rate_limit": self = .rateLimit(value)
        case "backlog_limit": self = .backlogLimit(value)
        case "backlog_wait_time": self = .backlogWaitTime(value)
        default: return nil
        }
    }

    /// The auditctl option that sets it, for messages and `rules diff`.
    public var option: String {
        switch self {
        case .enabled(let v): "-e \(v)"
        case .failure(let v): "-f \(v)"
        case .rateLimit(let v): "-r \(v)"
        case .backlogLimit(let v): "-b \(v)"
        case .backlogWaitTime(let v): "--backlog_wait_time \(v)"
        }
    }

    /// Whether this is the switch that turns auditing on or off: it goes after every
    /// other change, so that the rules and settings are in place when auditing starts.
    public var isEnabledSwitch: Bool {
        if case .enabled = self { true } else { false }
    }

    /// The status field's name, as `auditctl -s` prints it.
    public var name: String {
        switch self {
        case .enabled: "enabled"
        case .failure: "failure"
        case .rateLimit: "rate_limit"
        case .backlogLimit: "backlog_limit"
        case .backlogWaitTime: "backlog_wait_time"
        }
    }

    public var value: UInt32 {
        switch self {
        case .enabled(let v), .failure(let v), .rateLimit(let v), .backlogLimit(let v), .backlogWaitTime(let v): v
        }
    }
}

/// A rule as written: its list and action and, in order, the parts that build it. The
/// order matters to the kernel's encoding (`-F arch=` before `-S`), so it is kept.
public struct RuleSpec: Sendable, Equatable {
    /// libaudit's filter list number (`exit`, `user`, `task`, `exclude`, `filesystem`, `io_uring`).
    public var list: Int32
    /// `AUDIT_ALWAYS` or `AUDIT_NEVER`.
    public var action: Int32
    public var parts: [RulePart]

    public init(list: Int32, action: Int32, parts: [RulePart]) {
        self.list = list
        self.action = action
        self.parts = parts
    }

    /// `-a never,exit -F pid=PID`: no syscall of that process is audited (a collector's
    /// own syscalls would otherwise feed back into its stream).
    public static func excludingProcess(_ pid: Int32) -> RuleSpec {
        RuleSpec(list: Int32(AUDIT_FILTER_EXIT), action: Int32(AUDIT_NEVER), parts: [.field("pid=\(pid)")])
    }
}

/// One building step of a rule, in the order the file gives it.
public enum RulePart: Sendable, Equatable {
    /// `-S name[,name…]`, numbers, or `all`.
    case syscalls(String)
    /// `-F field<op>value` (not `key=`).
    case field(String)
    /// `-C field<op>field`.
    case comparison(String)
    /// `-w path` / `-W path`.
    case watch(String)
    /// `-p rwxa`.
    case permissions(String)
    /// `-k key` or `-F key=key`.
    case key(String)
}
