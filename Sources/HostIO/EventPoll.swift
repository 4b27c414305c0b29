import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// An epoll set: waits for many descriptors at once without blocking on any one, for a
/// server that a slow or idle client must not hold up.
public final class EventPoll {
    private let descriptor: Int32
    private var ready = [epoll_event](repeating: epoll_event(), count: 64)

    public struct Interest: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Interest(rawValue: EPOLLIN.rawValue)
        public static let writable = Interest(rawValue: EPOLLOUT.rawValue)
        public static let peerClosed = Interest(rawValue: EPOLLRDHUP.rawValue)
        public static let failed = Interest(rawValue: EPOLLERR.rawValue | EPOLLHUP.rawValue)
    }

    public init() throws(HostFile.FileError) {
        descriptor = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard descriptor >= 0 else { throw HostFile.FileError(path: "epoll", errno: errno) }
    }

    deinit { close(descriptor) }

    /// Watches `fd` for `interest` (or changes what it is watched for).
    public func watch(_ fd: Int32, for interest: Interest, modifying: Bool = false) {
        var event = epoll_event()
        event.events = interest.rawValue
        event.data.fd = fd
        epoll_ctl(descriptor, modifying ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event)
    }

    /// Waits up to `milliseconds` and calls `body` for each ready descriptor.
    public func wait(milliseconds: Int32, _ body: (Int32, Interest) -> Void) {
        let count = epoll_wait(descriptor, &ready, Int32(ready.count), milliseconds)
        guard count > 0 else { return }
        for index in 0..<Int(count) { body(ready[index].data.fd, Interest(rawValue: ready[index].events)) }
    }

    /// accept4(2) of a connection as a non-blocking, close-on-exec descriptor; -1 with
    /// `errno` set when none is waiting.
    public static func acceptNonBlocking(_ listener: Int32) -> Int32 {
        nodeaudit_accept_nonblocking(listener)
    }

    /// Accepts every connection waiting on `listener` for a server that bounds its
    /// connections: when `isFull` (or the process is out of descriptors while `canMakeRoom`),
    /// `makeRoom` closes one first; `admit` takes each new descriptor. What cannot be
    /// accepted now stays in the listener's backlog.
    public static func acceptAll(_ listener: Int32, isFull: () -> Bool, canMakeRoom: () -> Bool, makeRoom: () -> Void,
                                 admit: (Int32) -> Void) {
        while true {
            let fd = acceptNonBlocking(listener)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                // Out of descriptors: make room, or leave the rest waiting in the backlog.
                if errno == EMFILE || errno == ENFILE, canMakeRoom() {
                    makeRoom()
                    continue
                }
                return  // EAGAIN: all taken
            }
            if isFull() { makeRoom() }
            admit(fd)
        }
    }
}
