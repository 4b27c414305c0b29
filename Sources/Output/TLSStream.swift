import COpenSSL
#if canImport(Glibc)
import Glibc
#endif

/// Where a TLS client finds what it trusts and who it is.
public struct TLSSettings: Sendable, Equatable {
    /// PEM file of the CAs that may sign the collector's certificate; nil: the system's.
    public var caFile: String?
    /// Client certificate (PEM chain) and key, for collectors that ask for one.
    public var certificateFile: String?
    public var keyFile: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
    }
}

/// TLS 1.2+ on a connected socket, the server verified: its chain against the CAs, its
/// name (or IP address) against the host nodeaudit connected to.
final class TLSStream {
    private let context: OpaquePointer
    private let connection: OpaquePointer

    init(descriptor: Int32, host: String, settings: TLSSettings) throws(SinkError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw SinkError("TLS: \(OpenSSLError.last())") }
        self.context = context
        guard let connection = SSL_new(context) else {
            SSL_CTX_free(context)
            throw SinkError("TLS: \(OpenSSLError.last())")
        }
        self.connection = connection
        nodeaudit_ssl_ctx_require_tls12(context)
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        SSL_set_verify(connection, SSL_VERIFY_PEER, nil)
        if let caFile = settings.caFile {
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else { throw SinkError("TLS: cannot read the CA file \(caFile): \(OpenSSLError.last())") }
        } else {
            SSL_CTX_set_default_verify_paths(context)
        }
        if let certificate = settings.certificateFile, let key = settings.keyFile {
            guard SSL_use_certificate_chain_file(connection, certificate) == 1,
                  SSL_use_PrivateKey_file(connection, key, SSL_FILETYPE_PEM) == 1 else {
                throw SinkError("TLS: cannot use the client certificate \(certificate) with key \(key): \(OpenSSLError.last())")
            }
        }
        // The certificate must name what nodeaudit connected to: an IP address or a host name.
        var address = in6_addr()
        if inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1 {
            X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(connection), host)
        } else {
            SSL_set1_host(connection, host)
            nodeaudit_ssl_set_server_name(connection, host)
        }
        SSL_set_fd(connection, descriptor)
        guard SSL_connect(connection) == 1 else {
            let verify = SSL_get_verify_result(connection)
            let reason = verify != X509_V_OK ? String(cString: X509_verify_cert_error_string(verify)) : OpenSSLError.last()
            throw SinkError("TLS handshake with \(host): \(reason)")
        }
    }

    deinit {
        SSL_free(connection)
        SSL_CTX_free(context)
    }

    func write(_ bytes: ArraySlice<UInt8>) throws(SinkError) {
        var offset = bytes.startIndex
        while offset < bytes.endIndex {
            let written = bytes.withUnsafeBytes { buffer in
                SSL_write(connection, buffer.baseAddress! + (offset - bytes.startIndex), Int32(min(bytes.endIndex - offset, 1 << 20)))
            }
            guard written > 0 else { throw SinkError("TLS write: \(OpenSSLError.last())") }
            offset += Int(written)
        }
    }

    /// Reads what is there (at most the buffer); 0 when the peer closed.
    func read(_ buffer: inout [UInt8]) throws(SinkError) -> Int {
        let count = buffer.withUnsafeMutableBytes { SSL_read(connection, $0.baseAddress!, Int32($0.count)) }
        if count > 0 { return Int(count) }
        if SSL_get_error(connection, count) == SSL_ERROR_ZERO_RETURN { return 0 }
        throw SinkError("TLS read: \(OpenSSLError.last())")
    }

}

/// The text of OpenSSL's oldest queued error, taken off the queue: for TLS clients (the
/// collectors' outputs) and servers (the API audit webhook).
public enum OpenSSLError {
    /// `ifNone` when the queue is empty.
    public static func last(ifNone: String = "connection closed") -> String {
        let code = ERR_get_error()
        guard code != 0 else { return ifNone }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
