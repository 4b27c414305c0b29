import AuditEvents

/// What a `pods/exec` or `pods/attach` request asks for, read from its requestURI:
/// `/api/v1/namespaces/NS/pods/NAME/exec?command=sh&command=-c&command=…&container=C&stdin=true&tty=true`.
/// kubectl sends the same query with `create` (POST, SPDY) and with `get` (websocket).
package struct PodExecRequest: Sendable, Equatable {
    package enum Kind: String, Sendable { case exec, attach }

    package var kind: Kind
    package var namespace: String
    package var pod: String
    /// The container; nil when the request leaves it to the API server (the pod's default).
    package var container: String?
    /// exec's argv, each `command=` in order, percent-decoded bytes (attach has none).
    package var command: [[UInt8]]
    package var stdin: Bool
    package var tty: Bool

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
        container = nil
        command = []
        stdin = false
        tty = false
        guard let query else { return }
        for pair in uri[(query + 1)...].split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
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
    }

    /// The key the node's exec session with this container and argv carries; nil without
    /// a container (the node names the one the API server chose, the request does not).
    package var key: String? {
        guard kind == .exec, let container else { return nil }
        return ExecKey.make(namespace: namespace, pod: pod, container: container, command: ExecCommand(arguments: command))
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
               let high = hexDigit(bytes[index + 1]), let low = hexDigit(bytes[index + 2]) {
                decoded.append(high << 4 | low)
                index += 3
            } else {
                decoded.append(byte == UInt8(ascii: "+") ? UInt8(ascii: " ") : byte)
                index += 1
            }
        }
        return decoded
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
