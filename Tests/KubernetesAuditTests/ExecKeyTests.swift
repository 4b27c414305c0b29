import AuditEvents
import Foundation
import Testing
@testable import KubernetesAudit

/// The exec key both sides compute, checked against Python's hashlib (an independent
/// SHA-256) with the formula docs/kubernetes-audit.md gives.
@Suite("SHA-256 and k8s.exec.key")
struct ExecKeyTests {
    /// `/usr/bin/python3 -c SCRIPT` with `input` on stdin; its stdout, trimmed.
    func python(_ script: String, input: [UInt8]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", script]
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    @Test("SHA-256 of inputs of every length around the block boundaries agrees with hashlib")
    func digests() throws {
        var generator = SystemRandomNumberGenerator()
        for length in [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 1000, 70_000] {
            let input = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = try python("import hashlib,sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())", input: input)
            #expect(SHA256.hex(input) == expected, "length \(length)")
        }
    }

    @Test("the key of namespace, pod, container and argv is the documented formula; the node's bytes and the API's query give the same")
    func key() throws {
        let argv: [[UInt8]] = [Array("/bin/sh".utf8), Array("-c".utf8), Array("echo 'ü' && id\t".utf8), []]
        let script = """
            import hashlib,sys
            ns,pod,container,*argv=sys.stdin.buffer.read().split(b'\\n')
            d=hashlib.sha256(b''.join(a+b'\\0' for a in argv)).hexdigest()
            print(hashlib.sha256(ns+b'\\0'+pod+b'\\0'+container+b'\\0'+d.encode()).hexdigest()[:32])
            """
        let input = Array(["shop", "web-0", "app"].joined(separator: "\n").utf8) + argv.flatMap { [0x0a] + $0 }
        let expected = try python(script, input: input)
        let node = ExecKey.make(namespace: "shop", pod: "web-0", container: "app", command: ExecCommand(arguments: argv))
        #expect(node == expected)
        let uri = "/api/v1/namespaces/shop/pods/web-0/exec?command=%2Fbin%2Fsh&command=-c&command=echo+%27%C3%BC%27+%26%26+id%09&command=&container=app"
        #expect(PodExecRequest(requestURI: uri)?.key == expected)
        // Another container, or argv split differently, is another key.
        #expect(ExecKey.make(namespace: "shop", pod: "web-0", container: "side", command: ExecCommand(arguments: argv)) != expected)
        let joined: [[UInt8]] = [Array("/bin/sh -c".utf8)] + argv.dropFirst(2)
        #expect(ExecKey.make(namespace: "shop", pod: "web-0", container: "app", command: ExecCommand(arguments: joined)) != expected)
    }

    @Test("a long argv is digested whole and shown cut")
    func longCommand() {
        let long = [Array(repeating: UInt8(ascii: "a"), count: 10_000), Array("b".utf8)]
        let command = ExecCommand(arguments: long)
        #expect(command.isCut && command.shown.joined().utf8.count == ExecCommand.shownBytes)
        #expect(command.digest != ExecCommand(arguments: [long[0]]).digest)
    }
}
