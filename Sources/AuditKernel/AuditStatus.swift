import AuditRules
import CAudit

/// The kernel's audit status (`auditctl -s`): whether audit is on, who reads it, and how
/// much has been lost.
public struct AuditStatus: Sendable, Equatable {
    public var enabled: UInt32
    public var failure: UInt32
    /// The registered audit daemon's pid, 0 when none.
    public var pid: UInt32
    public var rateLimit: UInt32
    public var backlogLimit: UInt32
    /// Records the kernel dropped since boot (or the last reset).
    public var lost: UInt32
    /// Records waiting in the kernel's queue now.
    public var backlog: UInt32
    public var backlogWaitTime: UInt32
    public var backlogWaitTimeActual: UInt32

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

    /// The current value of a setting a rule file can change.
    public func current(_ setting: StatusSetting) -> UInt32 {
        switch setting {
        case .enabled: enabled
        case .failure: failure
        case .rateLimit: rateLimit
        case .backlogLimit: backlogLimit
        case .backlogWaitTime: backlogWaitTime
        }
    }

    /// Name and value pairs in `auditctl -s` order.
    public var fields: [(String, UInt32)] {
        // The settings' names are StatusSetting's, as rule files and `rules diff` say them.
        [(StatusSetting.enabled(enabled).name, enabled), (StatusSetting.failure(failure).name, failure), ("pid", pid),
         (StatusSetting.rateLimit(rateLimit).name, rateLimit), (StatusSetting.backlogLimit(backlogLimit).name, backlogLimit),
         ("lost", lost), ("backlog", backlog), (StatusSetting.backlogWaitTime(backlogWaitTime).name, backlogWaitTime),
         ("backlog_wait_time_actual", backlogWaitTimeActual)]
    }
}
