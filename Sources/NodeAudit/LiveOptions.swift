import AuditKernel

/// The settings of one `nodeaudit run`.
public struct LiveOptions: Sendable {
    public var ruleFiles: [String]
    /// Load `ruleFiles` before reading (and repair nothing later).
    public var applyRules: Bool
    public var mode: AuditEventSocket.Mode
    /// When another live process is the audit daemon, stop it and register in its place.
    public var takeOver: Bool
    /// On exit, remove the rules nodeaudit loaded and put back the settings it changed.
    public var cleanup: Bool
    /// Seconds between statistics lines on stderr; 0 for none (the final line is always written).
    public var statsIntervalSeconds: Double
    public var receiveBufferBytes: Int32
    public var events: EventOptions

    public init(ruleFiles: [String], applyRules: Bool, mode: AuditEventSocket.Mode, takeOver: Bool, cleanup: Bool,
                statsIntervalSeconds: Double, receiveBufferBytes: Int32, events: EventOptions) {
        self.ruleFiles = ruleFiles
        self.applyRules = applyRules
        self.mode = mode
        self.takeOver = takeOver
        self.cleanup = cleanup
        self.statsIntervalSeconds = statsIntervalSeconds
        self.receiveBufferBytes = receiveBufferBytes
        self.events = events
    }
}

/// How events are built and written, the same for `parse` and `run`.
public struct EventOptions: Sendable {
    public var includeRecords: Bool
    public var maxArgvBytes: Int
    public var useHostUsers: Bool
    public var eventTimeoutMilliseconds: UInt64

    public init(includeRecords: Bool, maxArgvBytes: Int, useHostUsers: Bool, eventTimeoutMilliseconds: UInt64) {
        self.includeRecords = includeRecords
        self.maxArgvBytes = maxArgvBytes
        self.useHostUsers = useHostUsers
        self.eventTimeoutMilliseconds = eventTimeoutMilliseconds
    }
}
