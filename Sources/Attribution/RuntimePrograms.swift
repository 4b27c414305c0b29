import AuditRecords

/// The container runtime programs whose command lines nodeaudit believes: OCI runtimes
/// (runc, crun), the containerd shims and conmon, by the path the kernel gives their
/// executable (`attribution.runtimes`).
///
/// Anyone can name a program `runc` and print a container id in its argv; only a program
/// at one of these paths, owned by root and run as root, is taken at its word. Everything
/// else is attributed from `/proc` and its parents, as any other process.
package struct RuntimePrograms: Sendable {
    private let paths: [[UInt8]]

    package init(paths: [String]) {
        self.paths = paths.map { Array($0.utf8) }
    }

    /// Whether `exe` is one of the trusted paths (asked of every exec: lengths, then the
    /// last byte, then the bytes).
    package func contains(_ exe: Bytes) -> Bool {
        exe.withUnsafeBufferPointer { exe in
            guard let last = exe.last else { return false }
            for path in paths where path.count == exe.count && path[path.count - 1] == last {
                if path.withUnsafeBufferPointer({ $0.elementsEqual(exe) }) { return true }
            }
            return false
        }
    }

    /// Whether a trusted program at `exe` is an OCI runtime (`runc`, `crun`), whose
    /// command lines name containers; the others (shims, conmon) supervise them.
    package static func isOCIRuntime(_ exe: some Collection<UInt8>) -> Bool {
        let name = exe.split(separator: UInt8(ascii: "/")).last.map { Array($0) } ?? []
        return name == Array("runc".utf8) || name == Array("crun".utf8)
    }

    /// Whether an exec by `euid` of a program whose file `owner` has is to be believed:
    /// root's, run by root. A rootless runtime's containers are attributed from `/proc`.
    package func trusts(exe: Bytes, owner: UInt32?, euid: UInt32?) -> Bool {
        owner == 0 && euid == 0 && contains(exe)
    }
}
