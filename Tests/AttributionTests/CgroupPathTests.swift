import Attribution
import AuditEvents
import Testing

@Suite("cgroup paths of every runtime and driver")
struct CgroupPathTests {
    static let id = "3f2a6c1d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a29"
    static let inner = "a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90"
    static let uid = "0a1b2c3d-4e5f-6789-abcd-ef0123456789"
    static let uidSlice = "0a1b2c3d_4e5f_6789_abcd_ef0123456789"

    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var line: String
        var containerID: String?
        var runtime: String?
        var podUID: String?
        var qos: String?
        var unit: String?
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "docker, cgroupfs, v1", line: "12:memory:/docker/\(id)", containerID: id, runtime: "docker"),
        Case(name: "docker, systemd, v2", line: "0::/system.slice/docker-\(id).scope", containerID: id, runtime: "docker"),
        Case(name: "docker in docker, v1", line: "4:pids:/docker/\(id)/docker/\(inner)", containerID: inner, runtime: "docker"),
        Case(name: "containerd via kubelet, cgroupfs, v1, besteffort",
             line: "11:pids:/kubepods/besteffort/pod\(uid)/\(id)", containerID: id, podUID: uid, qos: "besteffort"),
        Case(name: "containerd via kubelet, cgroupfs, v1, guaranteed",
             line: "9:memory:/kubepods/pod\(uid)/\(id)", containerID: id, podUID: uid, qos: "guaranteed"),
        Case(name: "containerd via kubelet, systemd, v2, burstable",
             line: "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod\(uidSlice).slice/cri-containerd-\(id).scope",
             containerID: id, runtime: "containerd", podUID: uid, qos: "burstable"),
        Case(name: "containerd, systemd driver written as cgroupfs name",
             line: "0::/kubepods-besteffort-pod\(uidSlice).slice:cri-containerd:\(id)",
             containerID: id, runtime: "containerd", podUID: uid, qos: "besteffort"),
        Case(name: "containerd namespace (ctr run)", line: "0::/default/\(id)", containerID: id, runtime: "containerd"),
        Case(name: "containerd k8s.io namespace, v1", line: "3:cpuset:/k8s.io/\(id)", containerID: id, runtime: "containerd"),
        Case(name: "CRI-O, systemd, v2, guaranteed",
             line: "0::/kubepods.slice/kubepods-pod\(uidSlice).slice/crio-\(id).scope",
             containerID: id, runtime: "cri-o", podUID: uid, qos: "guaranteed"),
        Case(name: "CRI-O conmon is beside the container, in the pod",
             line: "0::/kubepods.slice/kubepods-pod\(uidSlice).slice/crio-conmon-\(id).scope", podUID: uid, qos: "guaranteed",
             unit: "crio-conmon-\(id).scope"),
        Case(name: "CRI-O, cgroupfs, v1",
             line: "8:memory:/kubepods/burstable/pod\(uid)/crio-\(id)", containerID: id, runtime: "cri-o", podUID: uid, qos: "burstable"),
        Case(name: "podman, systemd, rootful, v2", line: "0::/machine.slice/libpod-\(id).scope", containerID: id, runtime: "podman"),
        Case(name: "podman, systemd, nested init", line: "0::/machine.slice/libpod-\(id).scope/container",
             containerID: id, runtime: "podman"),
        Case(name: "podman rootless",
             line: "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-\(id).scope/container",
             containerID: id, runtime: "podman"),
        Case(name: "podman, cgroupfs", line: "0::/libpod_parent/libpod-\(id)", containerID: id, runtime: "podman"),
        Case(name: "podman conmon is not the container", line: "0::/machine.slice/libpod-conmon-\(id).scope",
             unit: "libpod-conmon-\(id).scope"),
        Case(name: "kind: a kubelet inside a docker container",
             line: "0::/system.slice/docker-\(inner).scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/"
                 + "kubelet-kubepods-besteffort-pod\(uidSlice).slice/cri-containerd-\(id).scope",
             containerID: id, runtime: "containerd", podUID: uid, qos: "besteffort"),
        Case(name: "static pod (hash uid)", line: "5:pids:/kubepods/burstable/podf0e1d2c3b4a5968778695a4b3c2d1e0f/\(id)",
             containerID: id, podUID: "f0e1d2c3b4a5968778695a4b3c2d1e0f", qos: "burstable"),
        Case(name: "pod sandbox slice without a container", line: "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod\(uidSlice).slice",
             podUID: uid, qos: "besteffort"),
        Case(name: "runc default (bare id)", line: "0::/\(id)", containerID: id),
        Case(name: "systemd service on the host", line: "0::/system.slice/ssh.service", unit: "ssh.service"),
        Case(name: "login session on the host", line: "0::/user.slice/user-0.slice/session-3.scope", unit: "session-3.scope"),
        Case(name: "host root", line: "0::/"),
        // nodeaudit in a DaemonSet pod has a cgroup namespace of its own: other processes'
        // paths start with `/..` up to the common ancestor.
        Case(name: "another pod, seen from nodeaudit's own cgroup namespace",
             line: "0::/../../kubepods-besteffort-pod\(uidSlice).slice/cri-containerd-\(id).scope",
             containerID: id, runtime: "containerd", podUID: uid, qos: "besteffort"),
        Case(name: "a host service, seen from nodeaudit's own cgroup namespace",
             line: "0::/../../../system.slice/kubelet.service", unit: "kubelet.service"),
        Case(name: "a short hex name is no container", line: "4:memory:/process_api/e7c9f304c69012c4c32fd745ec6192cd"),
    ]

    @Test("one cgroup line", arguments: cases)
    func line(_ c: Case) throws {
        let workload = try #require(CgroupPath.workload(fromFile: Array(c.line.utf8)))
        #expect(workload.container?.id == c.containerID)
        #expect(workload.container?.runtime == c.runtime)
        #expect(workload.pod?.uid == c.podUID)
        #expect(workload.pod?.qosClass == c.qos)
        #expect(workload.unit == c.unit)
        #expect(workload.isHost == (c.containerID == nil && c.podUID == nil))
        #expect(workload.cgroup == String(c.line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)[2]))
    }

    @Test("v1 files: the hierarchy that names the container wins over name=systemd and the v2 root")
    func wholeV1File() throws {
        let file = """
            12:pids:/kubepods/besteffort/pod\(Self.uid)/\(Self.id)
            11:memory:/kubepods/besteffort/pod\(Self.uid)/\(Self.id)
            2:cpu,cpuacct:/kubepods/besteffort/pod\(Self.uid)/\(Self.id)
            1:name=systemd:/system.slice/containerd.service
            0::/

            """
        let workload = try #require(CgroupPath.workload(fromFile: Array(file.utf8)))
        #expect(workload.container?.id == Self.id)
        #expect(workload.pod?.uid == Self.uid)
        #expect(workload.cgroup == "/kubepods/besteffort/pod\(Self.uid)/\(Self.id)")
    }

    @Test("a host process in a hybrid hierarchy shows its informative v1 path and no container")
    func hybridHost() throws {
        let file = "9:name=systemd:/\n4:memory:/process_api/e7c9f304c69012c4c32fd745ec6192cd\n0::/\n"
        let workload = try #require(CgroupPath.workload(fromFile: Array(file.utf8)))
        #expect(workload.isHost)
        #expect(workload.cgroup == "/process_api/e7c9f304c69012c4c32fd745ec6192cd")
    }

    @Test("garbage and empty files give no workload")
    func garbage() {
        #expect(CgroupPath.workload(fromFile: Array("".utf8)) == nil)
        #expect(CgroupPath.workload(fromFile: Array("not a cgroup file\n::\n".utf8)) == nil)
    }
}
