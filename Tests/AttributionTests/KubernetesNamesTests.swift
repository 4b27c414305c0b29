@testable import Attribution
import AuditEvents
import Testing

@Suite("Kubernetes names from the kubelet's log layout")
struct KubernetesNamesTests {
    static let id = "3f2a6c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29"
    static let uid = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"

    @Test("pod directories and container log names split into their parts")
    func names() {
        #expect(KubernetesNames.podDirectory("kube-system_coredns-5d78c9869d-x7k2p_\(Self.uid)")
                == .init(namespace: "kube-system", name: "coredns-5d78c9869d-x7k2p", uid: Self.uid))
        #expect(KubernetesNames.containerLog("coredns-5d78c9869d-x7k2p_kube-system_coredns-\(Self.id).log")
                == .init(pod: "coredns-5d78c9869d-x7k2p", namespace: "kube-system", container: "coredns", id: Self.id))
        #expect(KubernetesNames.podDirectory("not-a-pod") == nil)
        #expect(KubernetesNames.podDirectory("a_b_c_d") == nil)
        #expect(KubernetesNames.containerLog("web_default_nginx-abc.log") == nil)
        #expect(KubernetesNames.containerLog("web_default_nginx-\(Self.id).txt") == nil)
        #expect(KubernetesNames.containerLog("webdefaultnginx-\(Self.id).log") == nil)
    }

    @Test("the index names a workload's pod and container, and keeps a deleted pod for its retention")
    func index() {
        var index = PodIndex(retentionMilliseconds: 1000)
        index.update(podDirectories: [(name: "shop_web-0_\(Self.uid)", containers: ["nginx", "sidecar"])],
                     containerLogs: ["web-0_shop_nginx-\(Self.id).log"], nowMilliseconds: 10_000)
        var workload = Workload(container: .init(id: Self.id), pod: .init(uid: Self.uid))
        #expect(index.name(&workload))
        #expect(workload.pod?.name == "web-0")
        #expect(workload.pod?.namespace == "shop")
        #expect(workload.container?.name == "nginx")
        #expect(!index.misses(workload))

        var unknown = Workload(pod: .init(uid: "ffffffff-4e5f-6789-abcd-ef0123456789"))
        #expect(!index.name(&unknown))
        #expect(index.misses(unknown))

        index.update(podDirectories: [], containerLogs: [], nowMilliseconds: 10_500)
        var stillKnown = Workload(pod: .init(uid: Self.uid))
        #expect(index.name(&stillKnown), "a pod deleted 0.5 s ago is still named")
        index.update(podDirectories: [], containerLogs: [], nowMilliseconds: 11_500)
        var gone = Workload(pod: .init(uid: Self.uid))
        #expect(!index.name(&gone), "after the retention the pod is forgotten")
    }

    @Test("a pod with one container names a container that has no log link yet")
    func singleContainer() {
        var index = PodIndex()
        index.update(podDirectories: [(name: "shop_web-0_\(Self.uid)", containers: ["nginx"])], containerLogs: [], nowMilliseconds: 0)
        var workload = Workload(container: .init(id: Self.id), pod: .init(uid: Self.uid))
        index.name(&workload)
        #expect(workload.container?.name == "nginx")
    }
}
