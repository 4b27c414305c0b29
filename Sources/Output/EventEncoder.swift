import AuditEvents

/// Renders an event as one line of some schema. Sinks receive whole lines.
public protocol EventEncoder: Sendable {
    /// Appends the event, as one line ending in `\n`, to `writer`.
    func encode(_ event: AuditEvent, into writer: inout JSONWriter)
}
