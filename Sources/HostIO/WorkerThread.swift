#if canImport(Glibc)
import Glibc
#endif

/// A POSIX thread running one closure: for the long-lived workers (the output writer,
/// spool delivery, the health server, the rendering thread) that must not share Swift's
/// cooperative pool, since each of them blocks in system calls for as long as it lives.
public struct WorkerThread: @unchecked Sendable {
    private let thread: pthread_t

    /// Starts `body` on a thread of its own, to be joined; the thread ends when `body`
    /// returns. Exits the process when no thread can be created (nothing would deliver
    /// events).
    public static func start(_ body: @escaping @Sendable () -> Void) -> WorkerThread {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var thread = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        let created = pthread_create(&thread, nil, { argument in
            Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
            return nil
        }, box)
        guard created == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            fatalError("nodeaudit: cannot start a thread: \(SystemError.text(created))")
        }
        return WorkerThread(thread: thread)
    }

    /// Starts `body` on a thread nobody joins: it lives until `body` returns.
    public static func detach(_ body: @escaping @Sendable () -> Void) {
        pthread_detach(start(body).thread)
    }

    /// Waits until the thread's closure has returned.
    public func join() {
        pthread_join(thread, nil)
    }
}
