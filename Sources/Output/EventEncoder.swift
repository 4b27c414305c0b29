import AuditEvents
import AuditRecords

/// Renders an event as one line of some schema. Sinks receive whole lines.
public protocol EventEncoder: Sendable {
    /// Appends the event, as one line ending in `\n`, to `writer`.
    func encode(_ event: AuditEvent, into writer: inout JSONWriter)
}

extension JSONWriter {
    /// Writes `AuditEvent.id` (`[NODE/]SECONDS.MILLIS:SERIAL`) without building a String:
    /// every event carries one.
    mutating func eventID(_ key: EventKey) {
        beginString()
        if let node = key.node {
            escapedStringContent(node)
            rawStringContent("/")
        }
        decimalStringContent(key.stamp.seconds)
        rawStringContent(".")
        decimalStringContent(UInt64(key.stamp.milliseconds), width: 3)
        rawStringContent(":")
        decimalStringContent(key.stamp.serial)
        endString()
    }

    /// Writes the stamp's time as an RFC 3339 string, in place.
    mutating func time(_ stamp: AuditStamp) {
        beginString()
        Timestamp.withRFC3339(seconds: stamp.seconds, milliseconds: stamp.milliseconds) { rawStringContent($0) }
        endString()
    }
}
