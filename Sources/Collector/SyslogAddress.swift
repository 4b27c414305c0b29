import Output

/// `tcp://HOST:PORT`, `tls://HOST:PORT` or `udp://HOST:PORT` (`[v6]:PORT` too).
package enum SyslogAddress {
    package static func parse(_ text: String) -> (host: String, port: UInt16, transport: SyslogTransport.Transport)? {
        guard let schemeEnd = text.firstRange(of: "://"), let transport = SyslogTransport.Transport(rawValue: String(text[..<schemeEnd.lowerBound])),
              let colon = text.lastIndex(of: ":"), colon > schemeEnd.upperBound, let port = UInt16(text[text.index(after: colon)...]) else {
            return nil
        }
        var host = String(text[schemeEnd.upperBound..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return host.isEmpty ? nil : (host, port, transport)
    }
}
