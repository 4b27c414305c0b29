import Foundation

/// A fresh Debian 12 system in a directory, as a user's new machine or container has it:
/// debootstrap's minbase, made once from Debian's mirror and kept as a tarball in the
/// tools cache (`$NODEAUDIT_TOOLS`), then unpacked anew for every test. podman runs it
/// with `--rootfs`, so no image registry is needed.
public enum DebianRoot {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    static var tarball: URL {
        let environment = ProcessInfo.processInfo.environment
        let cache = environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")
        return URL(fileURLWithPath: environment["NODEAUDIT_TOOLS"] ?? (cache + "/nodeaudit")).appendingPathComponent("debian-bookworm-minbase.tar")
    }

    /// Unpacks a fresh Debian 12 into `directory` (made with debootstrap the first time).
    public static func fresh(into directory: URL) throws {
        if !FileManager.default.fileExists(atPath: tarball.path) {
            let staging = FileManager.default.temporaryDirectory.appendingPathComponent("nodeaudit-debootstrap-\(UUID().uuidString.prefix(8))")
            defer { try? FileManager.default.removeItem(at: staging) }
            let debootstrap = try ReferenceTools.path("debootstrap", package: "debootstrap")
            let made = try Command.run(debootstrap, ["--variant=minbase", "bookworm", staging.path])
            guard made.status == 0 else { throw Failure(description: "debootstrap: \(made.stderr.suffix(2000))") }
            try FileManager.default.createDirectory(at: tarball.deletingLastPathComponent(), withIntermediateDirectories: true)
            let partial = tarball.path + ".partial"
            let packed = try Command.run("/bin/tar", ["-C", staging.path, "-cf", partial, "."])
            guard packed.status == 0 else { throw Failure(description: "tar: \(packed.stderr)") }
            try FileManager.default.moveItem(atPath: partial, toPath: tarball.path)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let unpacked = try Command.run("/bin/tar", ["-C", directory.path, "-xf", tarball.path])
        guard unpacked.status == 0 else { throw Failure(description: "tar: \(unpacked.stderr)") }
    }
}
