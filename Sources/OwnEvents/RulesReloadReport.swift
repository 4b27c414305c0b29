import Output

/// What a reload of the rule files did to the kernel, as an event of nodeaudit's own in
/// the stream (`nodeaudit_rules_reloaded`): whoever reads the events sees when the rules
/// changed, what came and went, and what the kernel or the files refused.
package struct RulesReloadReport {
    package var epochMilliseconds: UInt64
    package var node: String?
    /// `signal` (SIGHUP) or `files` (the rule files changed).
    package var trigger: String
    package var added: [String] = []
    package var removed: [String] = []
    /// Lines left out under `-c` or `-i`, as `file:line: why`.
    package var skipped: [String] = []
    /// Changes the kernel refused.
    package var failures: [String] = []
    /// Why the files were refused as a whole; the rules loaded before stay.
    package var refusal: String?

    package init(epochMilliseconds: UInt64, node: String?, trigger: String) {
        self.epochMilliseconds = epochMilliseconds
        self.node = node
        self.trigger = trigger
    }

    /// Worth an event: something changed, or something failed.
    package var isEmpty: Bool { added.isEmpty && removed.isEmpty && failures.isEmpty && refusal == nil }

    package func encode(into w: inout JSONWriter) {
        w.beginOwnEvent(kind: "rules_reloaded", epochMilliseconds: epochMilliseconds, node: node, category: "config")
        w.key("rules_reloaded")
        w.beginObject()
        w.key("trigger")
        w.string(trigger)
        // added and removed always, so a consumer need not test for them.
        let lists: [(StaticString, [String], Bool)] = [("added", added, true), ("removed", removed, true),
                                                       ("skipped", skipped, false), ("failed", failures, false)]
        for (name, texts, always) in lists where always || !texts.isEmpty {
            w.key(name)
            w.beginArray()
            texts.forEach { w.string($0) }
            w.endArray()
        }
        if let refusal {
            w.key("refused")
            w.string(refusal)
            w.key("previous_rules_kept")
            w.bool(true)
        }
        w.endObject()
        w.endObject()
        w.newline()
    }
}
