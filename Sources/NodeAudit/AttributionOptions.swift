/// Where attribution reads the host: /proc and the kubelet's log directories.
public struct AttributionOptions: Sendable {
    public var procRoot: String
    public var podLogRoot: String
    public var containerLogRoot: String

    public init(procRoot: String, podLogRoot: String, containerLogRoot: String) {
        self.procRoot = procRoot
        self.podLogRoot = podLogRoot
        self.containerLogRoot = containerLogRoot
    }
}
