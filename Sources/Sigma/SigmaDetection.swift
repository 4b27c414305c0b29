#if canImport(Glibc)
import Glibc
#endif

/// The values of an event's fields as a Sigma rule asks for them, by the field numbers the
/// log source gave at load time (`SigmaFields`): an event is never asked for a field by
/// name on the hot path.
package protocol SigmaEvent {
    /// Calls `visit` with each value of the field until it returns true; nil when the event
    /// has no such field (an empty value is a value), else whether a visit returned true.
    func anyValue(of field: Int, _ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool?
    /// Calls `visit` with every string value of the event (Sigma's `keywords`) until it
    /// returns true.
    func anyKeywordValue(_ visit: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool
}

/// One compiled value of a detection item: what a field's value must be.
enum SigmaValueTest: Sendable {
    case pattern(SigmaPattern)
    case regex(SigmaRegex)
    case cidr(SigmaCIDR)
    case compare(SigmaComparison, Double)
    /// `|exists: true` or `false`.
    case exists(Bool)
    /// `null`: the field is absent or empty.
    case null
    /// `|fieldref`: equal to another field's value (of the same event), as a pattern mode.
    case fieldReference(field: Int, mode: SigmaPosition, cased: Bool)
    /// The forms one value takes under an expanding modifier (`windash`, `base64offset`):
    /// any one passes, also when the item's values must all pass (`|all`).
    case anyOf([SigmaValueTest])

    /// Whether the event's `field` passes.
    func test(_ event: some SigmaEvent, field: Int) -> Bool {
        switch self {
        case .pattern(let pattern): return event.anyValue(of: field) { pattern.matches($0) } ?? false
        case .regex(let regex): return event.anyValue(of: field) { regex.matches($0) } ?? false
        case .cidr(let network): return event.anyValue(of: field) { network.contains($0) } ?? false
        case .compare(let comparison, let number):
            return event.anyValue(of: field) { value in
                guard let parsed = SigmaNumber.parse(value) else { return false }
                return comparison.holds(parsed, number)
            } ?? false
        case .exists(let wanted): return (event.anyValue(of: field) { _ in true } != nil) == wanted
        case .null: return event.anyValue(of: field) { !$0.isEmpty } != true
        case .fieldReference(let other, let mode, let cased):
            var references: [[UInt8]] = []
            _ = event.anyValue(of: other) { value in
                references.append(Array(value))
                return false
            }
            return references.contains { reference in
                let pattern = SigmaPattern(mode.wrap(SigmaPattern.escaped(reference)), cased: cased)
                return event.anyValue(of: field) { pattern.matches($0) } ?? false
            }
        case .anyOf(let forms): return forms.contains { $0.test(event, field: field) }
        }
    }
}

/// Where a value must stand in a field's value: the whole of it, or (`contains`,
/// `startswith`, `endswith`) anywhere, at the start, at the end. Also how `|fieldref` compares.
enum SigmaPosition: Sendable {
    case equals, contains, startsWith, endsWith

    /// The value with the wildcards the position means (the value's own stay wildcards).
    func wrap(_ value: [UInt8]) -> [UInt8] {
        let star = UInt8(ascii: "*")
        switch self {
        case .equals: return value
        case .contains: return [star] + value + [star]
        case .startsWith: return value + [star]
        case .endsWith: return [star] + value
        }
    }
}

enum SigmaComparison: Sendable {
    case less, lessOrEqual, greater, greaterOrEqual

    func holds(_ value: Double, _ bound: Double) -> Bool {
        switch self {
        case .less: value < bound
        case .lessOrEqual: value <= bound
        case .greater: value > bound
        case .greaterOrEqual: value >= bound
        }
    }
}

enum SigmaNumber {
    /// A decimal number (integer or not) in an event's value.
    static func parse(_ bytes: UnsafeBufferPointer<UInt8>) -> Double? {
        guard !bytes.isEmpty, bytes.count <= 64 else { return nil }
        return Double(String(decoding: bytes, as: UTF8.self))
    }
}

/// An IPv4 or IPv6 network of a `|cidr` value.
struct SigmaCIDR: Sendable {
    let network: [UInt8]
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = SigmaCIDR.address(String(parts[0])) else { return nil }
        let bits = address.count * 8
        if parts.count == 2 {
            guard let length = Int(parts[1]), length >= 0, length <= bits else { return nil }
            prefix = length
        } else {
            prefix = bits
        }
        network = address
    }

    func contains(_ value: UnsafeBufferPointer<UInt8>) -> Bool {
        guard value.count <= 64, let address = SigmaCIDR.address(String(decoding: value, as: UTF8.self)),
              address.count == network.count else { return false }
        var remaining = prefix
        for index in 0..<address.count where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> UInt8(remaining))
            if address[index] & mask != network[index] & mask { return false }
            remaining -= 8
        }
        return true
    }

    /// The bytes of an IPv4 or IPv6 address in text (libc's inet_pton, as the rest of
    /// nodeaudit reads addresses); nil for anything else.
    static func address(_ text: String) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, text, &bytes) == 1 { return Array(bytes.prefix(4)) }
        if inet_pton(AF_INET6, text, &bytes) == 1 { return bytes }
        return nil
    }
}

/// A field of a detection with its values: one must match (all, with `|all`).
struct SigmaFieldItem: Sendable {
    let field: Int
    let values: [SigmaValueTest]
    let requireAll: Bool

    func test(_ event: some SigmaEvent) -> Bool {
        requireAll ? values.allSatisfy { $0.test(event, field: field) } : values.contains { $0.test(event, field: field) }
    }
}

/// A search identifier of the detection section.
enum SigmaSearch: Sendable {
    /// Maps: each a conjunction of field items; the search holds when one map does.
    case maps([[SigmaFieldItem]])
    /// Keywords: one of the patterns in any string value of the event (all, with `|all`).
    case keywords([SigmaValueTest], requireAll: Bool)

    func test(_ event: some SigmaEvent) -> Bool {
        switch self {
        case .maps(let maps): return maps.contains { map in map.allSatisfy { $0.test(event) } }
        case .keywords(let tests, let requireAll):
            func one(_ test: SigmaValueTest) -> Bool {
                switch test {
                case .pattern(let pattern): return event.anyKeywordValue { pattern.matches($0) }
                case .regex(let regex): return event.anyKeywordValue { regex.matches($0) }
                case .anyOf(let forms): return forms.contains(where: one)
                default: return false
                }
            }
            return requireAll ? tests.allSatisfy(one) : tests.contains(where: one)
        }
    }
}

extension SigmaPattern {
    /// `value` with Sigma's wildcard characters escaped, to be matched as it is.
    static func escaped(_ value: [UInt8]) -> [UInt8] {
        var escaped: [UInt8] = []
        escaped.reserveCapacity(value.count)
        for byte in value {
            if byte == UInt8(ascii: "*") || byte == UInt8(ascii: "?") || byte == UInt8(ascii: "\\") { escaped.append(UInt8(ascii: "\\")) }
            escaped.append(byte)
        }
        return escaped
    }
}
