import Output

package extension JSONWriter {
    /// Opens one of nodeaudit's own events (drift, restart gap, rules reloaded) and writes
    /// what every event starts with: `id` (`nodeaudit-KIND-MILLISECONDS`, the kind's words
    /// joined by `-`), `time`, `node`, `category` and `type` (`nodeaudit_KIND`, joined by
    /// `_`), so consumers read them like the kernel's.
    mutating func beginOwnEvent(kind: String, epochMilliseconds: UInt64, node: String?, category: String) {
        beginObject()
        key("id")
        string("nodeaudit-\(kind.replacing("_", with: "-"))-\(epochMilliseconds)")
        key("time")
        string(Self.rfc3339(epochMilliseconds))
        if let node {
            key("node")
            string(node)
        }
        key("category")
        string(category)
        key("type")
        string("nodeaudit_" + kind)
    }

    /// RFC 3339 text of a wall-clock time in milliseconds.
    static func rfc3339(_ epochMilliseconds: UInt64) -> String {
        String(decoding: Timestamp.rfc3339(seconds: epochMilliseconds / 1000, milliseconds: UInt16(epochMilliseconds % 1000)), as: UTF8.self)
    }
}
