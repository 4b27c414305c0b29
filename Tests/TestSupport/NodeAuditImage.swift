import Foundation

/// nodeaudit's container image, as `Scripts/image` builds it, loaded into a podman storage
/// of the test's own (under the temporary directory), so that a test neither depends on
/// nor changes the node's containers and images. `remove()` deletes the storage.
public final class NodeAuditImage {
    public static var isAvailable: Bool { PodmanStorage.isAvailable }

    /// The image archive a test uses instead of building: an OCI archive of
    /// localhost/nodeaudit (`Scripts/test-kernel-vm` makes one on the host for its VM,
    /// which cannot build images).
    public static let archiveVariable = "NODEAUDIT_IMAGE_ARCHIVE"

    private let storage: PodmanStorage
    /// `podman` with this storage, runc and the cgroup manager this node supports.
    public var podman: [String] { storage.podman }
    /// The image's name in this storage.
    public private(set) var name = ""

    public init() throws {
        storage = try PodmanStorage()
        try load()
    }

    /// Builds the image with `Scripts/image` (unless an archive was given), then loads it.
    private func load() throws {
        var archive = ProcessInfo.processInfo.environment[Self.archiveVariable] ?? ""
        if archive.isEmpty {
            let built = try Command.run(Fixtures.repositoryRoot.appendingPathComponent("Scripts/image").path, [],
                                        in: Fixtures.repositoryRoot.path)
            guard built.status == 0 else { throw ImageError.failed("Scripts/image", String(built.stderr.suffix(3000))) }
            let image = built.stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)
            archive = storage.directory.appendingPathComponent("image.tar").path
            let saved = try Command.run(podman[0], ["save", "--format", "oci-archive", "--output", archive, image])
            guard saved.status == 0 else { throw ImageError.failed("podman save", saved.stderr) }
        }
        let loaded = try storage.run(["load", "--input", archive])
        guard loaded.status == 0,
              let line = (loaded.stdoutText + loaded.stderr).split(separator: "\n").last(where: { $0.hasPrefix("Loaded image") }),
              let image = line.split(separator: " ").last else {
            throw ImageError.failed("podman load", loaded.stdoutText + loaded.stderr)
        }
        name = String(image)
    }

    /// Runs podman with this storage.
    public func run(_ arguments: [String]) throws -> Command.Result { try storage.run(arguments) }

    /// Removes every container of this storage, then the storage itself.
    public func remove() { storage.remove() }

    public enum ImageError: Error {
        case failed(String, String)
    }
}

/// A podman storage of a test's own (under the temporary directory), run with runc and the
/// cgroup manager this node supports, so that a test neither depends on nor changes the
/// node's containers and images. `remove()` deletes its containers and the storage.
public final class PodmanStorage {
    public static var isAvailable: Bool { Command.which("podman") != nil && Command.which("runc") != nil }

    /// What `podman run` needs on these machines besides the test's own options: podman's
    /// default limits fail setrlimit here (the kubelet's do not).
    public static let runQuirks = ["--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]

    public let directory: URL
    /// `podman` and its global options for this storage.
    public let podman: [String]

    public init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-podman-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var podman = [try ReferenceTools.path("podman", package: "podman"),
                      "--root", directory.appendingPathComponent("storage").path,
                      "--runroot", directory.appendingPathComponent("run").path,
                      "--runtime", try ReferenceTools.path("runc", package: "runc"), "--events-backend", "file"]
        // Without systemd podman's default manager (systemd) cannot work.
        if !FileManager.default.fileExists(atPath: "/run/systemd/system") { podman += ["--cgroup-manager", "cgroupfs"] }
        self.podman = podman
    }

    /// Runs podman with this storage.
    public func run(_ arguments: [String]) throws -> Command.Result {
        try Command.run(podman[0], Array(podman.dropFirst()) + arguments)
    }

    /// Removes every container of this storage, then the storage itself.
    public func remove() {
        _ = try? run(["rm", "--all", "--force", "--time", "0"])
        _ = try? run(["system", "reset", "--force"])
        try? FileManager.default.removeItem(at: directory)
    }
}
