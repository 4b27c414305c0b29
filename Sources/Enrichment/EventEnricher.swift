import AuditEvents
import AuditRecords

/// One enrichment step of the pipeline: adds what the kernel did not say to an event.
package protocol EventEnricher {
    func enrich(_ event: inout AuditEvent)
    /// Reads again what it read from the host (SIGHUP); most steps read nothing.
    func reload()
}

extension EventEnricher {
    package func reload() {}
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
