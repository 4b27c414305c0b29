import AuditEvents
import AuditRecords

/// Renders an event as one line of some schema. Sinks receive whole lines.
public protocol EventEncoder: Sendable {
    /// Appends the event, as one line ending in `\n`, to `writer`.
    func encode(_ event: AuditEvent, into writer: inout JSONWriter)

    /// The same schema with the bulkiest optional parts left out (the original
    /// records), for an event whose full line exceeds the bound on an event's size.
    var reduced: any EventEncoder { get }

    /// The event's identity only (id, time, serial, category, record types, keys): the
    /// last resort for an event too large even reduced.
    func encodeSummary(_ event: AuditEvent, into writer: inout JSONWriter)
}

extension EventEncoder {
    /// Appends the event, bounded to `maxBytes`: an event whose line would be longer is
    /// written reduced, or else as its summary, and marked `"truncated":true` with its
    /// full size in `original_bytes`. Every line then fits the spools' and collectors'
    /// limits, whatever size of argv or records a local user makes. Returns whether it
    /// was cut.
    @discardableResult
    public func encode(_ event: AuditEvent, into writer: inout JSONWriter, maxBytes: Int) -> Bool {
        let start = writer.count
        encode(event, into: &writer)
        let original = writer.count - start
        guard original > maxBytes else { return false }
        writer.truncate(to: start)
        reduced.encode(event, into: &writer)
        if writer.count - start > maxBytes - 64 {
            writer.truncate(to: start)
            encodeSummary(event, into: &writer)
        }
        if writer.reopenLastObject() {
            writer.key("truncated")
            writer.bool(true)
            writer.key("original_bytes")
            writer.number(original)
            writer.endObject()
            writer.newline()
        }
        return true
    }
}

extension JSONWriter {
    /// Writes `AuditEvent.id` (`[NODE/]SECONDS.MILLIS:SERIAL`) without building a String:
    /// every event carries one.
    mutating func eventID(_ key: EventKey) {
        beginString()
        eventIDContent(key)
        endString()
    }

    /// The event id's characters, inside a string already begun.
    mutating func eventIDContent(_ key: EventKey) {
        if let node = key.node {
            escapedStringContent(node)
            rawStringContent("/")
        }
        decimalStringContent(key.stamp.seconds)
        rawStringContent(".")
        decimalStringContent(UInt64(key.stamp.milliseconds), width: 3)
        rawStringContent(":")
        decimalStringContent(key.stamp.serial)
    }

    /// Writes the stamp's time as an RFC 3339 string, in place.
    mutating func time(_ stamp: AuditStamp) {
        beginString()
        // Copied out and back: writing the text reaches the writer, which holds it.
        var recent = recentTime
        recent.withRFC3339(seconds: stamp.seconds, milliseconds: stamp.milliseconds) { rawStringContent($0) }
        recentTime = recent
        endString()
    }
}

extension JSONWriter {
    /// `"selinux":{"result":"denied","permissions":["setuid"]}`, in both schemas.
    mutating func accessDecision(_ decision: AccessDecision, in text: UnsafeBufferPointer<UInt8>) {
        key("selinux")
        beginObject()
        member("result", decision.result, in: text)
        key("permissions")
        array(decision.permissions, in: text)
        endObject()
    }
}

/// The fields libaudit hex-encodes when their value holds a space, a quote or a control
/// byte, whatever the record type (libauparse interprets them as "escaped"): unquoted,
/// such a value is hex, and is decoded where it is written as it stands.
enum EscapedFields {
    /// The names, by length: a detail field is compared with the few of its length only.
    private static let namesByLength: [[StaticString]] = {
        let names: [StaticString] = [
            "path", "name", "comm", "exe", "file", "watch", "cwd", "cmd", "acct", "dir", "vm", "device", "cgroup",
            "apparmor", "operation", "denied_mask", "requested_mask", "info", "profile", "label", "old-chardev",
            "new-chardev", "old-disk", "new-disk", "old-fs", "new-fs", "old-net", "new-net",
        ]
        var table = [[StaticString]](repeating: [], count: 16)
        for name in names { table[name.utf8CodeUnitCount].append(name) }
        return table
    }()

    static func contains(_ key: UnsafeBufferPointer<UInt8>) -> Bool {
        key.count < namesByLength.count && namesByLength[key.count].contains(where: key.equals)
    }
}

extension JSONWriter {
    /// `container: {id, runtime, name}`: the same object in both schemas.
    mutating func container(_ container: Workload.Container) {
        key("container")
        beginObject()
        key("id")
        string(container.id)
        member("runtime", container.runtime)
        member("name", container.name)
        endObject()
    }
}

extension JSONWriter {
    /// `name: ["…", …]`, strings the configuration gave (labels).
    /// `detections`: each matched rule's id, title, level and tags.
    mutating func detections(_ detections: [Detection]) {
        key("detections")
        beginArray()
        for detection in detections {
            beginObject()
            member("id", detection.id)
            member("title", detection.title)
            member("level", detection.level.rawValue)
            strings("tags", detection.tags)
            endObject()
        }
        endArray()
    }

    mutating func strings(_ name: StaticString, _ values: [String]) {
        key(name)
        beginArray()
        for value in values { string(value) }
        endArray()
    }
}

extension JSONWriter {
    /// The parent (`parentKey`: pid, executable, name, args, its exec event — on `node`,
    /// the event's — and time) and,
    /// with `ancestorsKey`, the ancestors above it; the field names are the schema's.
    mutating func lineage(
        _ lineage: Lineage, node: Bytes?, parentKey: StaticString, ancestorsKey: StaticString?, executableKey: StaticString, nameKey: StaticString
    ) {
        let parent = lineage.parent
        key(parentKey)
        beginObject()
        ancestorProgram(parent, executableKey: executableKey, nameKey: nameKey)
        if let exec = parent.exec {
            key("exec_event")
            eventID(EventKey(stamp: exec, node: node))
            key("exec_time")
            time(exec)
        }
        endObject()
        if let ancestorsKey, !lineage.ancestors.isEmpty { ancestors(ancestorsKey, lineage.ancestors, executableKey: executableKey) }
    }

    /// An ancestor's pid, executable, name and arguments as members of an open object.
    mutating func ancestorProgram(_ ancestor: Lineage.Ancestor, executableKey: StaticString, nameKey: StaticString) {
        key("pid")
        number(ancestor.pid)
        if let exe = ancestor.program.exe { key(executableKey); string(exe) }
        if let comm = ancestor.program.comm { key(nameKey); string(comm) }
        if let arguments = ancestor.program.arguments {
            key("args")
            beginArray()
            for argument in arguments { string(argument) }
            endArray()
        }
    }

    /// `name: [{pid, exe}, …]`, nearest first.
    mutating func ancestors(_ name: StaticString, _ ancestors: [Lineage.Ancestor], executableKey: StaticString) {
        key(name)
        beginArray()
        for ancestor in ancestors {
            beginObject()
            key("pid")
            number(ancestor.pid)
            if let exe = ancestor.program.exe { key(executableKey); string(exe) }
            endObject()
        }
        endArray()
    }
}
