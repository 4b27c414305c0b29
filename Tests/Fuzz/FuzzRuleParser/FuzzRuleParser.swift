import AuditRules

/// libFuzzer entry: the input as a rule file. Parsing and encoding through libaudit must
/// never crash, and every rule that encodes must format back to text that parses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRuleParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let (statements, _) = RuleFileParser.parse(text, file: "fuzz.rules")
    for located in statements {
        guard case .add(let spec, let prepend) = located.statement,
              let encoded = try? RuleEncoder.encode(spec, prepend: prepend, source: located.source) else { continue }
        let formatted = RuleFormatter.text(encoded.data)
        let (again, errors) = RuleFileParser.parse(formatted, file: "formatted.rules")
        precondition(errors.isEmpty && again.count == 1, "formatted rule does not parse: \(formatted) \(errors)")
    }
    return 0
}
