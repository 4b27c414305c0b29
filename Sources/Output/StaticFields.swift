/// What the configuration adds to every event, the same on each: the cluster's name and
/// `name=value` fields (environment, region, team). A log store holding many clusters'
/// events tells them apart by these, without a pipeline stage of its own.
public struct StaticFields: Sendable {
    /// Native `cluster`, ECS `orchestrator.cluster.name`; nil for none.
    public var clusterName: String?
    /// Native `fields`, ECS `labels`, in the configured order.
    public var fields: [(name: String, value: String)]

    public init(clusterName: String? = nil, fields: [(name: String, value: String)] = []) {
        self.clusterName = clusterName
        self.fields = fields
    }

    public static let none = StaticFields()
}

extension JSONWriter {
    /// `name: {field: value, …}`; nothing when there are none.
    public mutating func staticFields(_ name: StaticString, _ fields: [(name: String, value: String)]) {
        guard !fields.isEmpty else { return }
        key(name)
        beginObject()
        for field in fields {
            var fieldName = field.name
            fieldName.withUTF8 { key(bytes: $0) }
            string(field.value)
        }
        endObject()
    }
}
