import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// The signals `nodeaudit run` answers, turned into flags its loop checks (a handler
/// may do nothing else safely):
/// - SIGINT, SIGTERM: stop cleanly (flush, give the audit pid back, clean up); a second
///   one ends the process at once, for an operator whose stop seems stuck;
/// - SIGHUP: reload — the configuration file, the rule files, the user databases — and
///   reopen the output file (what logrotate and operators expect);
/// - SIGUSR1: print the counters on stderr.
package enum ProcessSignals {
    private static let stop = Atomic<Int32>(0)
    private static let reloads = Atomic<UInt64>(0)
    private static let counterRequests = Atomic<UInt64>(0)

    /// Installs the handlers. The signals are also unblocked: a parent's blocked mask is
    /// inherited across exec and would otherwise leave nodeaudit unstoppable but by
    /// SIGKILL, which skips giving the audit pid back.
    package static func install() {
        let stopHandler: @convention(c) (Int32) -> Void = { signal in
            if ProcessSignals.stop.exchange(signal, ordering: .relaxed) != 0 { _exit(128 + signal) }
        }
        signal(SIGINT, stopHandler)
        signal(SIGTERM, stopHandler)
        signal(SIGHUP, { _ in ProcessSignals.reloads.add(1, ordering: .relaxed) })
        signal(SIGUSR1, { _ in ProcessSignals.counterRequests.add(1, ordering: .relaxed) })
        signal(SIGPIPE, SIG_IGN)
        var handled = sigset_t()
        sigemptyset(&handled)
        for handledSignal in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] { sigaddset(&handled, handledSignal) }
        sigprocmask(SIG_UNBLOCK, &handled, nil)
    }

    /// The signal that asked for shutdown, or nil.
    package static var stopRequested: Int32? {
        let value = stop.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }

    /// Reload requests (SIGHUP) so far; the loop compares with the count it handled.
    package static var reloadCount: UInt64 { reloads.load(ordering: .relaxed) }

    /// Counter requests (SIGUSR1) so far.
    package static var counterRequestCount: UInt64 { counterRequests.load(ordering: .relaxed) }
}
