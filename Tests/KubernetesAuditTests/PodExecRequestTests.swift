import Testing
@testable import KubernetesAudit

@Suite("pods/exec and pods/attach request URIs")
struct PodExecRequestTests {
    @Test("kubectl's query: argv in order, percent and plus decoded, container, stdin, tty")
    func exec() throws {
        let request = try #require(PodExecRequest(requestURI:
            "/api/v1/namespaces/shop/pods/web-0/exec?command=%2Fbin%2Fsh&command=-c&command=cat+%2Fetc%2Fshadow%3B+id&container=web&stdin=true&stdout=true&tty=true"))
        #expect(request.kind == .exec && request.namespace == "shop" && request.pod == "web-0" && request.container == "web")
        #expect(request.command.map { String(decoding: $0, as: UTF8.self) } == ["/bin/sh", "-c", "cat /etc/shadow; id"])
        #expect(request.stdin && request.tty)
    }

    @Test("attach has no command and no key; other URIs are not exec requests")
    func others() throws {
        let attach = try #require(PodExecRequest(requestURI: "/api/v1/namespaces/default/pods/debug/attach?container=debug&stdin=true"))
        #expect(attach.kind == .attach && attach.command.isEmpty && attach.key == nil)
        for uri in ["/api/v1/namespaces/shop/pods/web-0", "/api/v1/namespaces/shop/pods/web-0/log", "/apis/apps/v1/namespaces/a/b/c/exec",
                    "/api/v1/namespaces/shop/pods/web-0/portforward?ports=80", "exec", ""] {
            #expect(PodExecRequest(requestURI: uri) == nil, "\(uri)")
        }
    }

    @Test("without container= there is no key: the node names the container the API server chose")
    func noContainer() throws {
        #expect(try #require(PodExecRequest(requestURI: "/api/v1/namespaces/a/pods/b/exec?command=ls")).key == nil)
    }

    @Test("a bad escape stays as written; a truncated one too")
    func badEscapes() throws {
        let request = try #require(PodExecRequest(requestURI: "/api/v1/namespaces/a/pods/b/exec?command=%zz&command=%4&command=%41&container=c"))
        #expect(request.command.map { String(decoding: $0, as: UTF8.self) } == ["%zz", "%4", "A"])
    }
}
