#if canImport(Glibc)
import Glibc
#endif

/// A value shared by threads, with a condition to wait on: the one lock-and-wait of
/// nodeaudit's worker threads (the output queue, spool delivery, the rendering thread),
/// so that each of them says what it waits for, not how.
///
/// Every change made through `update` wakes the waiters; a timed wait measures on the
/// monotonic clock, which a change of the wall clock does not move.
///
/// It is `Sendable` only when its state is: the lock makes sharing it safe, not what a
/// state of references would let threads reach around it.
public final class Monitor<State> {
    private var state: State
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    public init(_ state: State) {
        self.state = state
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(changed, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(changed)
        pthread_mutex_destroy(mutex)
        changed.deallocate()
        mutex.deallocate()
    }

    /// Reads or changes the state under the lock, without waking anyone.
    public func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&state)
    }

    /// Changes the state under the lock and wakes every waiter.
    public func update<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        pthread_mutex_lock(mutex)
        defer {
            pthread_cond_broadcast(changed)
            pthread_mutex_unlock(mutex)
        }
        return try body(&state)
    }

    /// Waits until `ready` holds, then runs `body` under the same lock and wakes the
    /// waiters. With `timeoutMilliseconds`, gives up after that long and returns nil.
    public func wait<R>(until ready: (State) -> Bool, timeoutMilliseconds: Int? = nil, then body: (inout State) -> R) -> R? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if let timeoutMilliseconds {
            var deadline = Self.deadline(afterMilliseconds: timeoutMilliseconds)
            while !ready(state) {
                if pthread_cond_timedwait(changed, mutex, &deadline) == ETIMEDOUT, !ready(state) { return nil }
            }
        } else {
            while !ready(state) { pthread_cond_wait(changed, mutex) }
        }
        let result = body(&state)
        pthread_cond_broadcast(changed)
        return result
    }

    /// Waits until woken (by `update` or `wake`) or until `milliseconds` pass: for a
    /// worker that also has timed work to do.
    public func pause(milliseconds: Int) {
        var deadline = Self.deadline(afterMilliseconds: milliseconds)
        pthread_mutex_lock(mutex)
        _ = pthread_cond_timedwait(changed, mutex, &deadline)
        pthread_mutex_unlock(mutex)
    }

    private static func deadline(afterMilliseconds milliseconds: Int) -> timespec {
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        let nanoseconds = deadline.tv_nsec + (milliseconds % 1000) * 1_000_000
        deadline.tv_sec += milliseconds / 1000 + nanoseconds / 1_000_000_000
        deadline.tv_nsec = nanoseconds % 1_000_000_000
        return deadline
    }

    /// Wakes the waiters without a change (for a wait that also has a timeout).
    public func wake() {
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }
}

extension Monitor: @unchecked Sendable where State: Sendable {}
