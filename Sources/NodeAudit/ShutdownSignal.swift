import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// SIGINT and SIGTERM, turned into a flag the collector's loop checks, so that a stop
/// request ends the run cleanly (flush, unregister, clean up) instead of killing it.
public enum ShutdownSignal {
    private static let received = Atomic<Int32>(0)

    /// Installs the handlers; the first signal sets the flag, a second one ends the
    /// process at once (for an operator whose stop seems stuck). The signals are also
    /// unblocked: a parent's blocked mask is inherited across exec and would otherwise
    /// leave nodeaudit unstoppable but by SIGKILL, which skips giving the audit pid back.
    public static func install() {
        let handler: @convention(c) (Int32) -> Void = { signal in
            if ShutdownSignal.received.exchange(signal, ordering: .relaxed) != 0 { _exit(128 + signal) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        signal(SIGPIPE, SIG_IGN)
        var stopSignals = sigset_t()
        sigemptyset(&stopSignals)
        sigaddset(&stopSignals, SIGINT)
        sigaddset(&stopSignals, SIGTERM)
        sigprocmask(SIG_UNBLOCK, &stopSignals, nil)
    }

    /// The signal that asked for shutdown, or nil.
    public static var requested: Int32? {
        let value = received.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }
}
