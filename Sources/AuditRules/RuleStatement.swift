import CAudit

/// One line of an auditctl rule file, understood but not yet encoded for the kernel.
package enum RuleStatement: Sendable, Equatable {
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

/// auditctl's `-c` and `-i`, which package rule sets put at their top so that lines naming
/// what a host lacks (a user, a directory, a syscall) do not keep the rest from loading.
package enum ErrorPolicy: Sendable, Equatable {
    /// `-c`: go on after a failing line; the command still fails in the end.
    case continueOnError
    /// `-i`: go on after a failing line and succeed anyway.
    case ignoreErrors

    /// The option as written, for messages.
    package var option: String {
        switch self {
        case .continueOnError: "-c"
        case .ignoreErrors: "-i"
        }
    }
}

/// A kernel audit setting a rule file can carry, with its value. Which setting it is is
/// data (`Kind`, one row per setting), so that a new one is a row, not a case in every
/// switch.
package struct StatusSetting: Sendable, Equatable, Hashable {
    /// One of the settings: its name as `auditctl -s` prints it and the auditctl option
    /// that sets it.
    package struct Kind: Sendable, Equatable, Hashable {
        package let name: String
        package let flag: String

        package static let enabled = Kind(name: "enabled", flag: "-e")
        package static let failure = Kind(name: "failure", flag: "-f")
        package static let rateLimit = Kind(name: "rate_limit", flag: "-r")
        package static let backlogLimit = Kind(name: "backlog_limit", flag: "-b")
        package static let backlogWaitTime = Kind(name: "backlog_wait_time", flag: "--backlog_wait_time")
        /// Every setting, in the order a saved state is put back: `enabled` last, so that
        /// auditing is switched on or off only once the rest is in place.
        package static let all = [failure, rateLimit, backlogLimit, backlogWaitTime, enabled]
    }

    package var kind: Kind
    package var value: UInt32

    package init(_ kind: Kind, _ value: UInt32) {
        self.kind = kind
        self.value = value
    }

    package static func enabled(_ value: UInt32) -> StatusSetting { StatusSetting(.enabled, value) }
    package static func failure(_ value: UInt32) -> StatusSetting { StatusSetting(.failure, value) }
    package static func rateLimit(_ value: UInt32) -> StatusSetting { StatusSetting(.rateLimit, value) }
    package static func backlogLimit(_ value: UInt32) -> StatusSetting { StatusSetting(.backlogLimit, value) }
    package static func backlogWaitTime(_ value: UInt32) -> StatusSetting { StatusSetting(.backlogWaitTime, value) }

    /// The setting named as `auditctl -s` names it, with a value.
    package init?(name: String, value: UInt32) {
        guard let kind = Kind.all.first(where: { $0.name == name }) else { return nil }
        self.init(kind, value)
    }

    /// The auditctl option that sets it, for messages and `rules diff`.
    package var option: String { "\(kind.flag) \(value)" }

    /// The status field's name, as `auditctl -s` prints it.
    package var name: String { kind.name }

    /// Whether this is the switch that turns auditing on or off: it goes after every
    /// other change, so that the rules and settings are in place when auditing starts.
    package var isEnabledSwitch: Bool { kind == .enabled }

    /// `-e 2`: the lock that refuses every change until reboot.
    package var isLock: Bool { kind == .enabled && value == AuditLock.lockedValue }
}

/// The kernel's lock on its audit configuration (`enabled 2`), one name for the value.
package enum AuditLock {
    package static let lockedValue: UInt32 = 2
}

/// A rule as written: its list and action and, in order, the parts that build it. The
/// order matters to the kernel's encoding (`-F arch=` before `-S`), so it is kept.
package struct RuleSpec: Sendable, Equatable {
    /// libaudit's filter list number (`exit`, `user`, `task`, `exclude`, `filesystem`, `io_uring`).
    package var list: Int32
    /// `AUDIT_ALWAYS` or `AUDIT_NEVER`.
    package var action: Int32
    package var parts: [RulePart]

    package init(list: Int32, action: Int32, parts: [RulePart]) {
        self.list = list
        self.action = action
        self.parts = parts
    }

    /// `-a never,exit -F pid=PID`: no syscall of that process is audited (a collector's
    /// own syscalls would otherwise feed back into its stream).
    package static func excludingProcess(_ pid: Int32) -> RuleSpec {
        RuleSpec(list: Int32(AUDIT_FILTER_EXIT), action: Int32(AUDIT_NEVER), parts: [.field("pid=\(pid)")])
    }
}

/// One building step of a rule, in the order the file gives it.
package enum RulePart: Sendable, Equatable {
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
