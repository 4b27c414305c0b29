import AuditEvents
import AuditRecords

/// What a `pods/exec` or `pods/attach` request asks for, read from its requestURI:
/// `/api/v1/namespaces/NS/pods/NAME/exec?command=sh&command=-c&command=…&container=C&stdin=true&tty=true`.
/// kubectl sends the same query with `create` (POST, SPDY) and with `get` (websocket).
package struct PodExecRequest: Sendable, Equatable {
    package enum Kind: String, Sendable { case exec, attach }

    package let kind: Kind
    package let namespace: String
    package let pod: String
    /// The container; nil when the request leaves it to the API server (the pod's default).
    package let container: String?
    /// exec's argv, each `command=` in order, percent-decoded bytes (attach has none).
    package let command: [[UInt8]]
    /// exec's argv as the event shows it, with its digest (nil for attach).
    package let execCommand: ExecCommand?
    /// The key the node's exec session with this container and argv carries; nil for attach
    /// and without a container (the node names the one the API server chose, the request does not).
    package let key: String?
    package let stdin: Bool
    package let tty: Bool

    /// Nil when the URI is not an exec or attach of a pod.
    package init?(requestURI: String) {
        let uri = Array(requestURI.utf8)
        let query = uri.firstIndex(of: UInt8(ascii: "?"))
        let path = uri[..<(query ?? uri.endIndex)].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true)
            .map { Self.percentDecoded($0) }
        // api / v1 / namespaces / NS / pods / NAME / exec
        guard path.count == 7, path[0] == Array("api".utf8), path[1] == Array("v1".utf8), path[2] == Array("namespaces".utf8),
              path[4] == Array("pods".utf8), let kind = Kind(rawValue: String(decoding: path[6], as: UTF8.self)) else { return nil }
        self.kind = kind
        namespace = String(decoding: path[3], as: UTF8.self)
        pod = String(decoding: path[5], as: UTF8.self)
        var container: String?
        var command: [[UInt8]] = []
        var stdin = false
        var tty = false
        let pairs = query.map { uri[($0 + 1)...].split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) } ?? []
        for pair in pairs {
            let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
            let name = String(decoding: Self.percentDecoded(pair[..<equals]), as: UTF8.self)
            let value = equals < pair.endIndex ? Self.percentDecoded(pair[(equals + 1)...]) : []
            switch name {
            case "command": command.append(value)
            case "container": container = String(decoding: value, as: UTF8.self)
            case "stdin": stdin = Self.isTrue(value)
            case "tty": tty = Self.isTrue(value)
            default: break
            }
        }
        self.container = container
        self.command = command
        self.stdin = stdin
        self.tty = tty
        execCommand = kind == .exec ? ExecCommand(arguments: command) : nil
        if let execCommand, let container {
            key = ExecKey.make(namespace: namespace, pod: pod, container: container, command: execCommand)
        } else {
            key = nil
        }
    }

    private static func isTrue(_ value: [UInt8]) -> Bool {
        ["true", "1", "True", "TRUE"].contains(String(decoding: value, as: UTF8.self))
    }

    /// `%XX` decoded and `+` read as a space (Go's query parsing); a bad escape stays as written.
    static func percentDecoded<C: Collection>(_ bytes: C) -> [UInt8] where C.Element == UInt8, C.Index == Int {
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%"), bytes.distance(from: index, to: bytes.endIndex) >= 3,
               let high = ByteNumbers.hexNibble(bytes[index + 1]), let low = ByteNumbers.hexNibble(bytes[index + 2]) {
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return decoded
    }
}
