/// A decoded SOCKADDR record: the address a socket syscall connected, bound or accepted.
public enum SocketAddress: Sendable, Equatable {
    case inet(address: String, port: UInt16)
    case inet6(address: String, port: UInt16, flowInfo: UInt32, scopeID: UInt32)
    /// A filesystem path, or an abstract name (shown with a leading `@`, as `ss` does).
    case unix(path: Bytes, isAbstract: Bool)
    /// An unnamed unix socket (autobind or socketpair).
    case unixUnnamed
    case netlink(family: UInt16, pid: UInt32, groups: UInt32)
    /// A family nodeaudit does not decode: the number and the raw bytes.
    case other(family: UInt16, raw: Bytes)

    public static let familyUnix: UInt16 = 1
    public static let familyInet: UInt16 = 2
    public static let familyInet6: UInt16 = 10
    public static let familyNetlink: UInt16 = 16

    /// The family's name, as in `socket(7)`.
    public var familyName: String {
        switch self {
        case .inet: return "inet"
        case .inet6: return "inet6"
        case .unix, .unixUnnamed: return "unix"
        case .netlink: return "netlink"
        case .other(let family, _): return "unknown(\(family))"
        }
    }

    /// Decodes the bytes of a `saddr=` value (already hex-decoded). The kernel writes
    /// the sockaddr as the process passed it, in host byte order for the family and
    /// network byte order for ports and addresses. Nil when the bytes are too short for
    /// their family (a process may pass a truncated address).
    public init?(_ bytes: Bytes) {
        let b = Array(bytes)
        guard b.count >= 2 else { return nil }
        let family = UInt16(b[0]) | UInt16(b[1]) << 8
        switch family {
        case Self.familyInet:
            guard b.count >= 8 else { return nil }
            self = .inet(address: "\(b[4]).\(b[5]).\(b[6]).\(b[7])", port: UInt16(b[2]) << 8 | UInt16(b[3]))
        case Self.familyInet6:
            guard b.count >= 24 else { return nil }
            let scope = b.count >= 28 ? UInt32(b[24]) | UInt32(b[25]) << 8 | UInt32(b[26]) << 16 | UInt32(b[27]) << 24 : 0
            let flow = UInt32(b[4]) << 24 | UInt32(b[5]) << 16 | UInt32(b[6]) << 8 | UInt32(b[7])
            self = .inet6(address: Self.formatIPv6(Array(b[8..<24])), port: UInt16(b[2]) << 8 | UInt16(b[3]),
                          flowInfo: flow, scopeID: scope)
        case Self.familyUnix:
            let name = b[2...]
            guard let first = name.first else { self = .unixUnnamed; return }
            if first == 0 {
                // Abstract names may hold NULs and are as long as the address says; the
                // kernel pads nothing, but processes often do: trim trailing NULs.
                var end = name.endIndex
                while end > name.startIndex + 1, name[end - 1] == 0 { end -= 1 }
                let abstract = name[(name.startIndex + 1)..<end]
                self = abstract.isEmpty ? .unixUnnamed : .unix(path: abstract, isAbstract: true)
            } else {
                let end = name.firstIndex(of: 0) ?? name.endIndex
                self = .unix(path: name[name.startIndex..<end], isAbstract: false)
            }
        case Self.familyNetlink:
            guard b.count >= 12 else { return nil }
            let pid = UInt32(b[4]) | UInt32(b[5]) << 8 | UInt32(b[6]) << 16 | UInt32(b[7]) << 24
            let groups = UInt32(b[8]) | UInt32(b[9]) << 8 | UInt32(b[10]) << 16 | UInt32(b[11]) << 24
            self = .netlink(family: family, pid: pid, groups: groups)
        default:
            self = .other(family: family, raw: bytes)
        }
    }

    /// RFC 5952 text form: lowercase, longest run of two or more zero groups as `::`,
    /// IPv4-mapped addresses as `::ffff:a.b.c.d`.
    static func formatIPv6(_ b: [UInt8]) -> String {
        let groups = (0..<8).map { UInt16(b[2 * $0]) << 8 | UInt16(b[2 * $0 + 1]) }
        if groups[0..<5].allSatisfy({ $0 == 0 }), groups[5] == 0xffff {
            return "::ffff:\(b[12]).\(b[13]).\(b[14]).\(b[15])"
        }
        var bestStart = -1, bestLength = 0, runStart = -1
        for i in 0...8 {
            if i < 8, groups[i] == 0 {
                if runStart < 0 { runStart = i }
            } else if runStart >= 0 {
                if i - runStart > bestLength { bestStart = runStart; bestLength = i - runStart }
                runStart = -1
            }
        }
        if bestLength < 2 { bestStart = -1 }
        var out = ""
        var i = 0
        while i < 8 {
            if i == bestStart {
                out += "::"
                i += bestLength
                continue
            }
            if !out.isEmpty, !out.hasSuffix(":") { out += ":" }
            out += String(groups[i], radix: 16)
            i += 1
        }
        return out
    }
}
