import AuditRecords
#if canImport(Glibc)
import Glibc
#endif

/// Values made to fit the type an ECS field has: Elasticsearch refuses a whole document
/// whose `source.ip` is not an address, so text that a client controls (a PAM `addr=`
/// from reverse DNS) is checked before it goes into an `ip` field. Pure functions.
enum ECSValues {
    /// Whether the bytes are an IPv4 or IPv6 address in text form (`10.1.2.3`, `fe80::1`,
    /// `::ffff:10.1.2.3`), as Elasticsearch's `ip` type takes them.
    static func isIPAddress(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // INET6_ADDRSTRLEN - 1: no address in text form is longer.
        guard !bytes.isEmpty, bytes.count < 46 else { return false }
        var terminated = InlineArray<48, CChar>(repeating: 0)
        for index in bytes.indices { terminated[index] = CChar(bitPattern: bytes[index]) }
        var address = in6_addr()
        return withUnsafePointer(to: terminated) { pointer in
            pointer.withMemoryRebound(to: CChar.self, capacity: 48) { text in
                inet_pton(AF_INET, text, &address) == 1 || inet_pton(AF_INET6, text, &address) == 1
            }
        }
    }

    /// The character device of a TTY name as audit records give it (`pts3`, `tty1`,
    /// `ttyS0`), for `process.tty.char_device`; nil for `(none)` and names whose device
    /// number is not fixed by the kernel's devices list.
    static func ttyDevice(_ name: UnsafeBufferPointer<UInt8>) -> (major: UInt32, minor: UInt32)? {
        func number(from start: Int) -> UInt32? {
            guard start < name.count, name.count - start <= 7 else { return nil }
            var value: UInt32 = 0
            for index in start..<name.count {
                let byte = name[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + UInt32(byte - UInt8(ascii: "0"))
            }
            return value
        }
        func starts(_ prefix: StaticString) -> Bool {
            name.count > prefix.utf8CodeUnitCount && UnsafeBufferPointer(rebasing: name[..<prefix.utf8CodeUnitCount]).equals(prefix)
        }
        // Unix98 pseudo-terminal slaves: majors 136–143, 256 minors each.
        if starts("pts"), let n = number(from: 3), n < 8 * 256 { return (136 + n / 256, n % 256) }
        // Serial ports: major 4 from minor 64.
        if starts("ttyS"), let n = number(from: 4), n < 192 { return (4, 64 + n) }
        // Virtual consoles: major 4, minors 1–63.
        if starts("tty"), let n = number(from: 3), n < 64 { return (4, n) }
        return nil
    }

    /// The last component of a path and what comes before it (`/etc`, `passwd`), for
    /// `file.directory` and `file.name`; no directory for a bare name, none of either for `/`.
    static func splitPath(_ path: UnsafeBufferPointer<UInt8>) -> (directory: Range<Int>?, name: Range<Int>?) {
        var end = path.count
        while end > 1, path[end - 1] == UInt8(ascii: "/") { end -= 1 }
        guard let slash = path[..<end].lastIndex(of: UInt8(ascii: "/")) else {
            return (nil, end > 0 ? 0..<end : nil)
        }
        let name = slash + 1 < end ? (slash + 1)..<end : nil
        return (slash == 0 ? 0..<1 : 0..<slash, name)
    }

    /// `T1548` of `T1548.003`: ECS puts the technique in `threat.technique.id` and the
    /// whole id in `threat.technique.subtechnique.id`.
    /// `T1059.004` of a Sigma tag `attack.t1059.004`; nil for other tags.
    static func technique(ofSigmaTag tag: String) -> String? {
        guard tag.hasPrefix("attack.t"), tag.count > 9, tag.dropFirst(8).allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
        return "T" + tag.dropFirst(8)
    }

    static func parentTechnique(_ id: Range<Int>, in text: UnsafeBufferPointer<UInt8>) -> (technique: Range<Int>, isSubtechnique: Bool) {
        guard let dot = text[id].firstIndex(of: UInt8(ascii: ".")) else { return (id, false) }
        return (id.lowerBound..<dot, true)
    }

    /// `network.transport` of a `socket(family, type, protocol)` call's arguments (hex, as
    /// the kernel gives them), for the internet families only.
    static func transport(family: UInt64, type: UInt64, protocol: UInt64) -> String? {
        guard family == 2 || family == 10 else { return nil }
        // SOCK_TYPE_MASK: the type without SOCK_NONBLOCK and SOCK_CLOEXEC.
        switch (type & 0xf, `protocol`) {
        case (1, 0), (1, 6): return "tcp"
        case (2, 0), (2, 17): return "udp"
        case (_, 132): return "sctp"
        case (_, 1) where family == 2: return "icmp"
        case (_, 58) where family == 10: return "ipv6-icmp"
        default: return nil
        }
    }
}
