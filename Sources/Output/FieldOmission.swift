#if canImport(Glibc)
import Glibc
#endif

/// Fields one output leaves out of its lines: log stores bill by the byte, and what one
/// store needs (the raw records, every identity) another does not. Each field is a
/// dotted path in the output's schema: `records`, `process.euid`, `process.parent.args`;
/// a path to an object leaves out the whole group (`k8s`, `process.parent`). Inside
/// arrays of objects the path goes on in each element (`process.ancestors.pid`).
///
/// It works on the encoded lines, so the same selection serves the native and ECS
/// schemas, and costs nothing for an output without one. The event's `id` cannot be
/// left out: collectors deduplicate resent events by it.
public struct FieldOmission: Sendable {
    private struct Node: Sendable {
        var children: [(key: [UInt8], node: Int)] = []
        var omitted = false
    }

    private var nodes = [Node()]
    public let paths: [String]

    public init(paths: [String]) throws(FieldOmissionError) {
        self.paths = paths
        for path in paths {
            let components = path.split(separator: ".", omittingEmptySubsequences: false)
            guard !path.isEmpty, components.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy(Self.isNameByte) }) else {
                throw FieldOmissionError("'\(path)' is not a field path (names of letters, digits, _, @ and -, joined by dots)")
            }
            guard path != "id" else { throw FieldOmissionError("'id' cannot be left out: collectors recognise resent events by it") }
            var node = 0
            for component in components {
                let key = Array(component.utf8)
                if let existing = nodes[node].children.first(where: { $0.key == key }) {
                    node = existing.node
                } else {
                    nodes.append(Node())
                    nodes[node].children.append((key, nodes.count - 1))
                    node = nodes.count - 1
                }
            }
            nodes[node].omitted = true
        }
    }

    public var isEmpty: Bool { paths.isEmpty }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "@"):
            return true
        default:
            return false
        }
    }

    /// Appends `lines` (complete JSON lines, each ending in `\n`) to `output` without the
    /// omitted fields. A line that is not a JSON object is copied as it is.
    public func apply(_ lines: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        output.reserveCapacity(output.count + lines.count)
        guard let base = lines.baseAddress else { return }
        var start = 0
        while start < lines.count {
            // memchr (vectorised) finds the line's end; the scanner then reads each byte once.
            let end = memchr(base + start, Int32(UInt8(ascii: "\n")), lines.count - start)
                .map { UnsafeRawPointer(base).distance(to: UnsafeRawPointer($0)) } ?? lines.count
            let line = UnsafeBufferPointer(rebasing: lines[start..<end])
            let mark = output.count
            var scanner = Scanner(bytes: line)
            if line.first != UInt8(ascii: "{") || scanner.copyObject(node: 0, of: nodes, into: &output) != line.count {
                output.removeSubrange(mark...)
                output.append(contentsOf: line)
            }
            if end < lines.count { output.append(UInt8(ascii: "\n")) }
            start = end + 1
        }
    }

    /// A cursor over one line of JSON as nodeaudit's encoders write it (no whitespace).
    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        /// Copies the object at `index` with `node`'s omissions; returns the index after
        /// it, or nil when the text is not a well-formed object.
        mutating func copyObject(node: Int, of nodes: [Node], into output: inout [UInt8]) -> Int? {
            guard byte == UInt8(ascii: "{") else { return nil }
            output.append(UInt8(ascii: "{"))
            index += 1
            var first = true
            while byte != UInt8(ascii: "}") {
                let keyStart = index
                guard byte == UInt8(ascii: "\""), skipString() else { return nil }
                let key = UnsafeBufferPointer(rebasing: bytes[(keyStart + 1)..<(index - 1)])
                guard byte == UInt8(ascii: ":") else { return nil }
                index += 1
                let valueStart = index
                let child = nodes[node].children.first { $0.key.elementsEqual(key) }?.node
                if let child, nodes[child].omitted {
                    guard skipValue() else { return nil }
                } else {
                    if !first { output.append(UInt8(ascii: ",")) }
                    first = false
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[keyStart..<valueStart]))
                    if let child, byte == UInt8(ascii: "{") {
                        guard copyObject(node: child, of: nodes, into: &output) != nil else { return nil }
                    } else if let child, byte == UInt8(ascii: "[") {
                        guard copyArray(node: child, of: nodes, into: &output) else { return nil }
                    } else {
                        guard skipValue() else { return nil }
                        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[valueStart..<index]))
                    }
                }
                if byte == UInt8(ascii: ",") { index += 1 } else if byte != UInt8(ascii: "}") { return nil }
            }
            output.append(UInt8(ascii: "}"))
            index += 1
            return index
        }

        /// Copies an array, applying `node` to each object in it.
        mutating func copyArray(node: Int, of nodes: [Node], into output: inout [UInt8]) -> Bool {
            output.append(UInt8(ascii: "["))
            index += 1
            while byte != UInt8(ascii: "]") {
                if byte == UInt8(ascii: "{") {
                    guard copyObject(node: node, of: nodes, into: &output) != nil else { return false }
                } else {
                    let start = index
                    guard skipValue() else { return false }
                    output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                }
                if byte == UInt8(ascii: ",") {
                    output.append(UInt8(ascii: ","))
                    index += 1
                } else if byte != UInt8(ascii: "]") {
                    return false
                }
            }
            output.append(UInt8(ascii: "]"))
            index += 1
            return true
        }

        /// The byte at the cursor; 0 past the end (no JSON value starts with it).
        var byte: UInt8 { index < bytes.count ? bytes[index] : 0 }

        /// Moves past the string at the cursor (its closing quote included).
        mutating func skipString() -> Bool {
            index += 1
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\\"): index += 2
                case UInt8(ascii: "\""): index += 1; return true
                default: index += 1
                }
            }
            return false
        }

        /// Moves past the value at the cursor.
        mutating func skipValue() -> Bool {
            switch byte {
            case UInt8(ascii: "\""):
                return skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""): guard skipString() else { return false }; continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 { index += 1; return true }
                    default: break
                    }
                    index += 1
                }
                return false
            case 0, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"):
                return false
            default:
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): return true
                    default: index += 1
                    }
                }
                return true
            }
        }
    }
}

/// A field path that cannot be left out, said with the path.
public struct FieldOmissionError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A sink (or an output) that leaves fields out of every line before passing it on.
public final class FieldOmitting<Base: EventSink>: EventSink {
    let base: Base
    private let omission: FieldOmission

    public init(_ base: Base, omitting omission: FieldOmission) {
        self.base = base
        self.omission = omission
    }

    public func write(_ lines: [UInt8]) throws(SinkError) {
        try lines.withUnsafeBufferPointer { lines throws(SinkError) in try write(contentsOf: lines) }
    }

    public func write(contentsOf lines: UnsafeBufferPointer<UInt8>) throws(SinkError) {
        var kept: [UInt8] = []
        omission.apply(lines, into: &kept)
        try base.write(kept)
    }

    public func flush() throws(SinkError) { try base.flush() }
}

extension FieldOmitting: OutputChannel where Base: OutputChannel {
    public var counters: DeliveryCounters { base.counters }
    public var settledWrites: UInt64 { base.settledWrites }
    public func close(timeoutMilliseconds: Int) -> Bool { base.close(timeoutMilliseconds: timeoutMilliseconds) }
}
