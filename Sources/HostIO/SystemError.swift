#if canImport(Glibc)
import Glibc
#endif

/// The text of an errno value, for messages: one place instead of `strerror` at every
/// call site.
public enum SystemError {
    public static func text(_ code: Int32) -> String { String(cString: strerror(code)) }

    /// The current `errno`'s text.
    public static var current: String { text(errno) }
}

/// The process's resource limits.
public enum ResourceLimits {
    /// Raises the soft limit of open descriptors to the hard limit: the health server's
    /// connections, the spools and the sockets must not hit a default of 1024 that the
    /// host's administrator already allowed past. Returns the limit now in force.
    @discardableResult
    public static func raiseOpenFiles() -> UInt64 {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        return UInt64(limit.rlim_cur)
    }
}
