/// A configured label: a name given to every process whose event matches the conditions,
/// and from then on to all its descendants (laurel's `label-process`). One mechanism for
/// "everything this deploy script started", "everything below sshd", "the processes of
/// this namespace".
///
/// Written as `NAME CONDITION…`, with the conditions of `EventFilter`:
/// `remote-shell exe=/usr/sbin/sshd`, `kubectl key=k8s_cli`, `payments namespace=payments`.
public struct LabelRule: Sendable, Equatable, CustomStringConvertible {
    public let label: String
    public let conditions: [EventFilter.Condition]
    public let description: String

    public static func parse(_ text: String) throws(FilterSyntaxError) -> LabelRule {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "\t" })
        guard let name = words.first, !name.contains("="), words.count > 1 else {
            throw FilterSyntaxError("'\(text)': a label is NAME FIELD=VALUE…")
        }
        return LabelRule(label: String(name), conditions: try EventFilter.Condition.parse(words.dropFirst(), in: text),
                         description: words.joined(separator: " "))
    }

    func matches(_ event: AuditEvent) -> Bool { conditions.allSatisfy { $0.holds(for: event) } }
}

/// The labels of the node's processes, kept from event to event: a process inherits its
/// parent's labels when nodeaudit first sees it, so a label reaches the whole tree below
/// the process that earned it, even when a parent exited before its child's event.
///
/// Sessions are labels of the same kind when `sessionLabels` is on: a process in a login
/// session gets `login:SES` (the kernel's session id), one in an exec session into a
/// container `exec:ID` (`exec_session.id`), and its descendants keep them, so that one
/// filter (`keep label=exec:*`) selects what people did by hand.
///
/// Only labelled processes are kept, at most `capacity`; past it the longest-known go
/// first, counted in `evicted`. A pid seen again with another parent is a new process
/// (the pid was reused) and starts from that parent's labels.
public struct ProcessLabels: Sendable {
    private struct Entry {
        var ppid: UInt32?
        var labels: [String]
    }

    public let rules: [LabelRule]
    public let sessionLabels: Bool
    public let capacity: Int
    private var entries: [UInt32: Entry] = [:]
    /// Pids in the order they were first labelled, for eviction (stale ones are skipped).
    private var order: [UInt32] = []
    private var orderStart = 0
    public private(set) var evicted: UInt64 = 0

    public init(rules: [LabelRule], sessionLabels: Bool = false, capacity: Int) {
        self.rules = rules
        self.sessionLabels = sessionLabels
        self.capacity = max(1, capacity)
    }

    public var count: Int { entries.count }

    /// Sets `event.labels`: the labels its process inherited and those its rules add.
    public mutating func label(_ event: inout AuditEvent) {
        guard let pid = event.process?.pid else { return }
        let ppid = event.process?.ppid
        var labels: [String]
        if let known = entries[pid], ppid == nil || known.ppid == nil || known.ppid == ppid {
            labels = known.labels
        } else {
            labels = ppid.flatMap { entries[$0]?.labels } ?? []
        }
        let inherited = labels.count
        for rule in rules where !labels.contains(rule.label) && rule.matches(event) { labels.append(rule.label) }
        if sessionLabels {
            for session in Self.sessionLabels(of: event) where !labels.contains(session) { labels.append(session) }
        }
        if !labels.isEmpty {
            if entries[pid] == nil {
                order.append(pid)
                if order.count - orderStart > 2 * capacity { compactOrder() }
            }
            entries[pid] = Entry(ppid: ppid ?? entries[pid]?.ppid, labels: labels)
            if entries.count > capacity { evictOldest() }
        } else if inherited == 0, entries[pid] != nil {
            entries[pid] = nil  // a reused pid whose new process has no label
        }
        event.labels = labels
    }

    /// The labels naming the sessions `event` belongs to, as enrichment found them.
    static func sessionLabels(of event: AuditEvent) -> [String] {
        var labels: [String] = []
        if let login = event.loginSession { labels.append("login:\(login.id)") }
        if let exec = event.execSession { labels.append("exec:\(exec.id)") }
        return labels
    }

    /// Pids in the eviction order, stale ones included: at most twice the capacity.
    var orderLength: Int { order.count - orderStart }

    /// Drops the stale pids of the eviction order (unlabelled since, or listed again
    /// later), which would otherwise pile up on a node whose labelled pids are reused
    /// while the table stays under its capacity.
    private mutating func compactOrder() {
        var listed = Set<UInt32>(minimumCapacity: entries.count)
        // The last listing of a pid is its place: an earlier one is of a previous holder.
        order = order[orderStart...].reversed().filter { entries[$0] != nil && listed.insert($0).inserted }.reversed()
        orderStart = 0
    }

    private mutating func evictOldest() {
        while entries.count > capacity, orderStart < order.count {
            let pid = order[orderStart]
            orderStart += 1
            if entries.removeValue(forKey: pid) != nil { evicted += 1 }
        }
        if orderStart > order.count / 2 {
            order.removeFirst(orderStart)
            orderStart = 0
        }
    }
}
