#if canImport(Glibc)
import Glibc
#endif

extension sockaddr_un {
    /// The address of the unix socket at `path`; nil when the path does not fit (107 bytes).
    init?(path: String) {
        self.init()
        sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: sun_path) else { return nil }
        withUnsafeMutableBytes(of: &sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
    }
}
