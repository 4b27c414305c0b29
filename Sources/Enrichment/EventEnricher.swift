import AuditEvents
import AuditRecords

/// One enrichment step of the pipeline: adds what the kernel did not say to an event.
package protocol EventEnricher {
    func enrich(_ event: inout AuditEvent)
    /// Reads again what it read from the host (SIGHUP); most steps read nothing.
    func reload()
    /// The tables it keeps of the node (processes, sessions), for /metrics.
    var tables: [TableSize] { get }
}

extension EventEnricher {
    package func reload() {}
    package var tables: [TableSize] { [] }
}

/// How full one of the pipeline's tables of the node is: each has a bound, so that an
/// agent's memory stays within its budget however many processes a node runs, and
/// operators see from /metrics how close to it each one is.
package struct TableSize: Sendable, Equatable {
    /// As in /metrics (`table="processes"`).
    package let name: String
    package let entries: Int
    package let capacity: Int

    package init(_ name: String, entries: Int, capacity: Int) {
        self.name = name
        self.entries = entries
        self.capacity = capacity
    }
}

extension UserNameResolver: EventEnricher {
    package func reload() { reloadIfChanged() }
}

/// Names the node on events that came without a `node=` (the live stream): the
/// Kubernetes node name (`NODE_NAME`, set from the downward API) or the host name.
package struct NodeNamer: EventEnricher {
    package let name: Bytes

    package init(name: String) {
        self.name = Array(name.utf8)[...]
    }

    package func enrich(_ event: inout AuditEvent) {
        if event.nodeName == nil { event.nodeName = name }
    }
}
