import AuditRules
import CAudit

/// The kernel's audit status (`auditctl -s`): whether audit is on, who reads it, and how
/// much has been lost.
package struct AuditStatus: Sendable, Equatable {
    package var enabled: UInt32
    package var failure: UInt32
    /// The registered audit daemon's pid, 0 when none.
    package var pid: UInt32
    package var rateLimit: UInt32
    package var backlogLimit: UInt32
    /// Records the kernel dropped since boot (or the last reset).
    package var lost: UInt32
    /// Records waiting in the kernel's queue now.
    package var backlog: UInt32
    package var backlogWaitTime: UInt32
    package var backlogWaitTimeActual: UInt32

    /// A status as given (a stand-in channel's, in tests); the kernel's comes from `AuditControl.status()`.
    package init(enabled: UInt32 = 1, failure: UInt32 = 1, pid: UInt32 = 0, rateLimit: UInt32 = 0, backlogLimit: UInt32 = 64,
                lost: UInt32 = 0, backlog: UInt32 = 0, backlogWaitTime: UInt32 = 60_000, backlogWaitTimeActual: UInt32 = 0) {
        self.enabled = enabled
        self.failure = failure
        self.pid = pid
        self.rateLimit = rateLimit
        self.backlogLimit = backlogLimit
        self.lost = lost
        self.backlog = backlog
        self.backlogWaitTime = backlogWaitTime
        self.backlogWaitTimeActual = backlogWaitTimeActual
    }

    init(_ s: audit_status) {
        enabled = s.enabled
        failure = s.failure
        pid = s.pid
        rateLimit = s.rate_limit
        backlogLimit = s.backlog_limit
        lost = s.lost
        backlog = s.backlog
        backlogWaitTime = s.backlog_wait_time
        backlogWaitTimeActual = s.backlog_wait_time_actual
    }

    /// Whether the configuration is locked until reboot (`enabled 2`): nothing can change.
    package var isLocked: Bool { enabled == AuditLock.lockedValue }

    /// The current value of a setting a rule file can change.
    package func current(_ setting: StatusSetting) -> UInt32 { current(setting.kind) }

    package func current(_ kind: StatusSetting.Kind) -> UInt32 { self[keyPath: KernelSetting.row(kind).field] }

    /// Name and value pairs in `auditctl -s` order.
    package var fields: [(String, UInt32)] {
        [(StatusSetting.Kind.enabled.name, enabled), (StatusSetting.Kind.failure.name, failure), ("pid", pid),
         (StatusSetting.Kind.rateLimit.name, rateLimit), (StatusSetting.Kind.backlogLimit.name, backlogLimit),
         ("lost", lost), ("backlog", backlog), (StatusSetting.Kind.backlogWaitTime.name, backlogWaitTime),
         ("backlog_wait_time_actual", backlogWaitTimeActual)]
    }
}

/// How the kernel holds each setting of `StatusSetting.Kind`: its field in the status and
/// libaudit's call that sets it, one row per setting.
struct KernelSetting: Sendable {
    let kind: StatusSetting.Kind
    let field: KeyPath<AuditStatus, UInt32> & Sendable
    let set: @Sendable (Int32, UInt32) -> Int32

    static let rows: [KernelSetting] = [
        KernelSetting(kind: .enabled, field: \.enabled, set: { audit_set_enabled($0, $1) }),
        KernelSetting(kind: .failure, field: \.failure, set: { audit_set_failure($0, $1) }),
        KernelSetting(kind: .rateLimit, field: \.rateLimit, set: { audit_set_rate_limit($0, $1) }),
        KernelSetting(kind: .backlogLimit, field: \.backlogLimit, set: { audit_set_backlog_limit($0, $1) }),
        KernelSetting(kind: .backlogWaitTime, field: \.backlogWaitTime, set: { audit_set_backlog_wait_time($0, $1) }),
    ]

    /// The row of `kind`: every kind of `StatusSetting.Kind.all` has one (only AuditRules
    /// can make a kind).
    static func row(_ kind: StatusSetting.Kind) -> KernelSetting {
        guard let row = rows.first(where: { $0.kind == kind }) else { preconditionFailure("no kernel row for \(kind.name)") }
        return row
    }
}
