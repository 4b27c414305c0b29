#if canImport(Glibc)
import Glibc
#endif

/// Waiting, idle, until the process is told to stop: a command that has done its work
/// but must not exit (a DaemonSet restarts a pod whose process ends).
public enum TerminationSignal {
    /// Blocks until SIGTERM or SIGINT arrives, and returns it.
    @discardableResult
    public static func wait() -> Int32 {
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        var received: Int32 = 0
        while sigwait(&signals, &received) != 0 {}
        return received
    }
}
