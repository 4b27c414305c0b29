#if canImport(Glibc)
import Glibc
#endif
import CLinux

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

    /// Runs `body` on a new thread whose root directory is `root`, and waits for it to
    /// return. The thread first stops sharing the process's root and working directory
    /// (`unshare(CLONE_FS)`), so the rest of the process keeps its own: path lookups the
    /// kernel makes on the thread's behalf (an audit watch being added) resolve inside
    /// `root`. Needs CAP_SYS_CHROOT. Returns 0, or the errno of the step that failed
    /// (`body` then does not run).
    public static func inRoot(_ root: String, _ body: () -> Void) -> Int32 {
        final class Outcome: @unchecked Sendable { var errno: Int32 = 0 }
        let outcome = Outcome()
        withoutActuallyEscaping(body) { body in
            nonisolated(unsafe) let body = body
            start {
                guard nodeaudit_unshare_filesystem() == 0, chroot(root) == 0, chdir("/") == 0 else {
                    outcome.errno = Glibc.errno
                    return
                }
                body()
            }.join()
        }
        return outcome.errno
    }

    /// Waits until the thread's closure has returned.
    public func join() {
        pthread_join(thread, nil)
    }
}
