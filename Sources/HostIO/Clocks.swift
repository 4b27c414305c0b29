#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock time in the unit audit stamps use.
public enum WallClock {
    public static func nowMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec / 1_000_000)
    }
}

/// Elapsed time that no clock change moves, for intervals.
public enum MonotonicClock {
    public static func nowMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec / 1_000_000)
    }
}
