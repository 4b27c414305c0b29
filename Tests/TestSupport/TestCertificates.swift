import Foundation

/// A throwaway CA and certificates made with openssl for TLS tests: a server certificate
/// for 127.0.0.1 and a client certificate, both signed by the CA, and a second CA that signed nothing (to be distrusted).
public struct TestCertificates {
    public let directory: URL
    public var ca: String { directory.appendingPathComponent("ca.pem").path }
    public var otherCA: String { directory.appendingPathComponent("other-ca.pem").path }
    public var serverCertificate: String { directory.appendingPathComponent("server.pem").path }
    public var serverKey: String { directory.appendingPathComponent("server.key").path }
    public var clientCertificate: String { directory.appendingPathComponent("client.pem").path }
    public var clientKey: String { directory.appendingPathComponent("client.key").path }

    public init(in directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let d = directory.path
        let script = """
            set -e
            cd '\(d)'
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj '/CN=nodeaudit test CA' 2>/dev/null
            openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj '/CN=unrelated CA' 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj '/CN=127.0.0.1' 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile san.ext 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj '/CN=nodeaudit client' 2>/dev/null
            openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 2>/dev/null
            chmod 644 server.key client.key
            """
        let result = try Command.run("/bin/sh", ["-c", script])
        guard result.status == 0 else { throw CertificateError.openssl(result.stderr) }
    }

    public enum CertificateError: Error {
        case openssl(String)
    }
}
