/// Where attribution reads the host: /proc and the kubelet's log directories.
public struct AttributionOptions: Sendable {
    public var procRoot: String
    public var podLogRoot: String
    public var containerLogRoot: String

    public init(procRoot: String = "/proc", podLogRoot: String = "/var/log/pods", containerLogRoot: String = "/var/log/containers") {
        self.procRoot = procRoot
        self.podLogRoot = podLogRoot
        self.containerLogRoot = containerLogRoot
    }
}
