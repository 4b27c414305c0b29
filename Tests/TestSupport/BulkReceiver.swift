import Foundation

/// An HTTP receiver on 127.0.0.1 speaking the part of Elasticsearch's `_bulk` API that
/// nodeaudit uses (create by `_id`, 409 for an id it has, per-item statuses), and taking
/// plain JSON lines on any other path. Python's http.server; documents go to files the test
/// reads. `refuse(seconds:)` answers 503 for a while, as a store under maintenance. A
/// document holding `poisonItem` is refused with 400 (a mapping error), a batch holding
/// `poisonBatch` with 413; what it refused goes to `refused.jsonl`.
public final class BulkReceiver {
    public let port = LoopbackPort.free()
    public let directory: URL
    private let process = Process()
    private let scheme: String
    public var bulkURL: String { "\(scheme)://127.0.0.1:\(port)/_bulk" }
    public var linesURL: String { "\(scheme)://127.0.0.1:\(port)/ingest" }

    /// With `tls`, it serves HTTPS with this certificate and key.
    public init(tag: String, tls: (certificate: String, key: String)? = nil) throws {
        scheme = tls == nil ? "http" : "https"
        directory = URL(fileURLWithPath: "/tmp/nodeaudit-bulk-\(tag)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = """
            import json, os, sys, time
            from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
            directory, port = sys.argv[1], int(sys.argv[2])
            ids = set()
            class Handler(BaseHTTPRequestHandler):
                protocol_version = "HTTP/1.1"
                def log_message(self, *args): pass
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"]))
                    refuse = os.path.join(directory, "refuse-until")
                    if os.path.exists(refuse) and time.time() < float(open(refuse).read()):
                        return self.answer(503, b'{"error":"unavailable"}')
                    lines = body.decode().splitlines()
                    if b"nodeaudit-poison-batch" in body:
                        with open(os.path.join(directory, "refused.jsonl"), "a") as out:
                            out.writelines(line + "\\n" for line in (lines[1::2] if self.path == "/_bulk" else lines))
                        return self.answer(413, b'{"error":"request entity too large"}')
                    if self.path != "/_bulk":
                        with open(os.path.join(directory, "lines.jsonl"), "a") as out:
                            out.writelines(line + "\\n" for line in lines)
                        return self.answer(200, b"{}")
                    items, errors = [], False
                    with open(os.path.join(directory, "documents.jsonl"), "a") as out:
                        for action, document in zip(lines[0::2], lines[1::2]):
                            meta = json.loads(action)["create"]
                            if "nodeaudit-poison-item" in document:
                                with open(os.path.join(directory, "refused.jsonl"), "a") as refused:
                                    refused.write(document + "\\n")
                                items.append({"create": {"_id": meta.get("_id"), "status": 400,
                                              "error": {"type": "mapper_parsing_exception", "reason": "failed to parse \\"status\\":x"}}}); errors = True
                            elif meta.get("_id") in ids:
                                items.append({"create": {"_id": meta["_id"], "status": 409}}); errors = True
                            else:
                                ids.add(meta.get("_id")); out.write(document + "\\n")
                                items.append({"create": {"_id": meta.get("_id"), "status": 201}})
                    self.answer(200, json.dumps({"errors": errors, "items": items}).encode())
                def answer(self, status, payload):
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
            server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
            if len(sys.argv) > 3:
                import ssl
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(sys.argv[3], sys.argv[4])
                server.socket = context.wrap_socket(server.socket, server_side=True)
            open(os.path.join(directory, "listening"), "w").close()
            server.serve_forever()
            """
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script, directory.path, String(port)] + (tls.map { [$0.certificate, $0.key] } ?? [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.runWithStopSignalsUnblocked()
        let listening = directory.appendingPathComponent("listening").path
        Wait.until { FileManager.default.fileExists(atPath: listening) || !process.isRunning }
        guard FileManager.default.fileExists(atPath: listening) else {
            throw Command.CommandError.failed("the HTTP receiver on port \(port) did not start")
        }
    }

    /// Answers 503 for the next `seconds`.
    public func refuse(seconds: Double) throws {
        try String(Date().timeIntervalSince1970 + seconds).write(to: directory.appendingPathComponent("refuse-until"), atomically: true, encoding: .utf8)
    }

    public static let poisonItem = "nodeaudit-poison-item"
    public static let poisonBatch = "nodeaudit-poison-batch"

    /// The documents it refused (400 items and 413 batches).
    public func refused() throws -> [[String: Any]] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("refused.jsonl")) else { return [] }
        return try Command.completeJSONLines(data)
    }

    public func documents() throws -> [[String: Any]] {
        guard let data = try? Data(contentsOf: directory.appendingPathComponent("documents.jsonl")) else { return [] }
        return try Command.completeJSONLines(data)
    }

    public func remove() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
