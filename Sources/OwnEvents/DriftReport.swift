import Output

/// What nodeaudit found changed in the kernel's audit configuration and put back: an
/// event of its own, in the same stream as the kernel's, so that whoever watches the
/// events sees that someone removed the rules (and who, when the kernel said so).
package struct DriftReport: Sendable {
    /// A CONFIG_CHANGE the kernel logged before the drift was found: who changed what.
    package struct Change: Sendable, Equatable {
        package var eventID: String
        package var operation: String?
        package var key: String?
        package var pid: UInt32?
        package var auid: UInt32?
        package var session: UInt32?
        package var exe: String?
        package var result: String?

        package init(eventID: String, operation: String?, key: String?, pid: UInt32?, auid: UInt32?, session: UInt32?,
                    exe: String?, result: String?) {
            self.eventID = eventID
            self.operation = operation
            self.key = key
            self.pid = pid
            self.auid = auid
            self.session = session
            self.exe = exe
            self.result = result
        }
    }

    package struct SettingRepair: Sendable, Equatable {
        package var name: String
        package var found: UInt32
        package var restored: UInt32
        package init(name: String, found: UInt32, restored: UInt32) {
            self.name = name
            self.found = found
            self.restored = restored
        }
    }

    package var epochMilliseconds: UInt64
    package var node: String?
    package var restoredRules: [String] = []
    package var restoredSettings: [SettingRepair] = []
    /// Repairs the kernel refused, as `what: why`.
    package var failures: [String] = []
    /// Another process holds the audit stream now (unicast mode): its pid.
    package var auditPidTakenBy: UInt32?
    package var changes: [Change] = []

    package init(epochMilliseconds: UInt64, node: String?) {
        self.epochMilliseconds = epochMilliseconds
        self.node = node
    }

    package var isEmpty: Bool { restoredRules.isEmpty && restoredSettings.isEmpty && failures.isEmpty && auditPidTakenBy == nil }

    /// One JSON line: `{"id":"nodeaudit-drift-MS","time":…,"category":"config","type":"nodeaudit_drift",…}`.
    package func encode(into w: inout JSONWriter) {
        w.beginOwnEvent(kind: "drift", epochMilliseconds: epochMilliseconds, node: node, category: "config")
        w.key("drift")
        w.beginObject()
        w.key("restored_rules")
        w.beginArray()
        restoredRules.forEach { w.string($0) }
        w.endArray()
        w.key("restored_settings")
        w.beginArray()
        for repair in restoredSettings {
            w.beginObject()
            w.key("name")
            w.string(repair.name)
            w.key("found")
            w.number(repair.found)
            w.key("restored")
            w.number(repair.restored)
            w.endObject()
        }
        w.endArray()
        if !failures.isEmpty {
            w.key("failed")
            w.beginArray()
            failures.forEach { w.string($0) }
            w.endArray()
        }
        if let auditPidTakenBy {
            w.key("audit_pid_taken_by")
            w.number(auditPidTakenBy)
        }
        w.endObject()
        w.key("changed_by")
        w.beginArray()
        for change in changes { encode(change, into: &w) }
        w.endArray()
        w.endObject()
        w.newline()
    }

    private func encode(_ change: Change, into w: inout JSONWriter) {
        w.beginObject()
        w.key("event_id")
        w.string(change.eventID)
        let texts: [(StaticString, String?)] = [("op", change.operation), ("key", change.key), ("exe", change.exe), ("result", change.result)]
        for (name, value) in texts {
            guard let value else { continue }
            w.key(name)
            w.string(value)
        }
        let numbers: [(StaticString, UInt32?)] = [("pid", change.pid), ("auid", change.auid), ("session", change.session)]
        for (name, value) in numbers {
            guard let value else { continue }
            w.key(name)
            w.number(value)
        }
        w.endObject()
    }
}
