import AuditEvents
import AuditRecords

extension JSONWriter {
    /// `name: ["T1059.004", …]`, the ATT&CK technique ids the rule keys name
    /// (`AttackTechniques`), each once; nothing when they name none.
    mutating func techniques(_ name: StaticString, of keys: [TextRange], in text: UnsafeBufferPointer<UInt8>) {
        var written: [UnsafeBufferPointer<UInt8>] = []
        for key in keys {
            let keyText = UnsafeBufferPointer(rebasing: text[key.range])
            AttackTechniques.forEach(in: keyText) { range in
                let id = UnsafeBufferPointer(rebasing: keyText[range])
                guard !written.contains(where: { $0.elementsEqual(id) }) else { return }
                if written.isEmpty {
                    self.key(name)
                    beginArray()
                }
                written.append(id)
                string(id)
            }
        }
        if !written.isEmpty { endArray() }
    }
}
