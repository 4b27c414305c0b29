import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// The socket the kernel's audit records arrive on.
///
/// Two ways to read: as *the* audit daemon (unicast: the kernel sends every record to
/// one registered pid, and queues them in its backlog while that reader is slow), or as
/// a read-only listener on the `AUDIT_NLGRP_READLOG` multicast group beside another
/// daemon (auditd, journald); a listener that falls behind loses records in its own
/// socket buffer, seen as `ENOBUFS`.
public final class AuditEventSocket {
    public enum Mode: Sendable {
        /// Registered as the audit daemon (needs CAP_AUDIT_CONTROL, the initial pid namespace).
        case unicast
        /// A read-only multicast listener (needs CAP_AUDIT_READ).
        case multicast
    }

    /// What the socket counted.
    public struct Counters: Sendable {
        /// Receive-buffer overflows: records the kernel could not queue for us.
        public var overflows: UInt64 = 0
        public var messages: UInt64 = 0
        /// Netlink messages that were not audit records (acks, replies).
        public var controlMessages: UInt64 = 0
    }

    public let mode: Mode
    public private(set) var counters = Counters()
    private let fd: Int32
    private var buffer: [UInt8]
    private var registered = false

    /// The largest netlink message the kernel sends for one record, with headroom.
    private static let bufferSize = 64 * 1024
    /// Netlink multicast group of the audit log (linux/audit.h AUDIT_NLGRP_READLOG).
    private static let readLogGroup: Int32 = 1
    private static let solNetlink: Int32 = 270
    private static let netlinkAddMembership: Int32 = 1

    /// Opens the socket and asks for a receive buffer of `receiveBufferBytes` (forced past
    /// the system limit where CAP_NET_ADMIN allows).
    public init(mode: Mode, receiveBufferBytes: Int32 = 16 << 20) throws(KernelError) {
        self.mode = mode
        buffer = [UInt8](repeating: 0, count: Self.bufferSize)
        switch mode {
        case .unicast:
            fd = audit_open()
            guard fd >= 0 else { throw KernelError("opening the audit netlink socket", errno: errno) }
        case .multicast:
            fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_AUDIT)
            guard fd >= 0 else { throw KernelError("opening the audit netlink socket", errno: errno) }
            var address = sockaddr_nl()
            address.nl_family = sa_family_t(AF_NETLINK)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
            }
            var group = Self.readLogGroup
            guard bound == 0,
                  setsockopt(fd, Self.solNetlink, Self.netlinkAddMembership, &group, socklen_t(MemoryLayout<Int32>.size)) == 0
            else {
                let error = errno
                close(fd)
                throw KernelError("joining the audit multicast group (needs CAP_AUDIT_READ)", errno: error)
            }
        }
        var size = receiveBufferBytes
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
    }

    deinit {
        if registered { _ = audit_set_pid(fd, 0, WAIT_NO) }
        close(fd)
    }

    /// The file descriptor, for `poll`.
    public var descriptor: Int32 { fd }

    /// The receive buffer the kernel granted, in bytes.
    public var receiveBufferBytes: Int32 {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &length)
        return size
    }

    /// Registers this process as the audit daemon (unicast). The kernel's answer arrives
    /// on this socket as an ack or error; `receive` reports a refusal.
    public func register() throws(KernelError) {
        guard mode == .unicast else { return }
        guard audit_set_pid(fd, UInt32(getpid()), WAIT_NO) > 0 else {
            throw KernelError("registering as the audit daemon", errno: errno)
        }
        registered = true
    }

    /// Gives the audit pid back, so the kernel stops sending to us.
    public func unregister() {
        guard registered else { return }
        _ = audit_set_pid(fd, 0, WAIT_NO)
        registered = false
    }

    /// Reads every message waiting, without blocking, and hands each audit record to
    /// `record(type, payload)`. Returns how many records were read; throws when the
    /// kernel refused a request (registration) or the socket failed.
    public func drain(_ record: (UInt16, UnsafeRawBufferPointer) -> Void) throws(KernelError) -> Int {
        var records = 0
        while true {
            let received = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if received < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return records
                case EINTR: continue
                case ENOBUFS:
                    counters.overflows += 1
                    continue
                default: throw KernelError("reading audit records", errno: errno)
                }
            }
            if received == 0 { return records }
            records += try parse(count: received, record)
        }
    }

    /// Walks the netlink messages in one datagram.
    private func parse(count: Int, _ record: (UInt16, UnsafeRawBufferPointer) -> Void) throws(KernelError) -> Int {
        var records = 0
        var failure: KernelError?
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset + 16 <= count {
                var length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
                let type = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
                // AUDIT_REPLACE (1329) is the kernel's binary ping to a registered daemon.
                let isRecord = (type == 1006 || type >= 1100) && type != 1329
                // The kernel sets nlmsg_len of audit records to the payload length alone (a
                // historical quirk kept for compatibility); every other message counts its header.
                if isRecord { length = min(length + 16, count - offset) }
                guard length >= 16, offset + length <= count else { break }
                let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + 16)..<(offset + length)])
                counters.messages += 1
                if type == UInt16(NLMSG_ERROR) {
                    counters.controlMessages += 1
                    let code = payload.count >= 4 ? payload.loadUnaligned(as: Int32.self) : 0
                    if code != 0 { failure = KernelError("the kernel refused a request", errno: -code) }
                } else if isRecord {
                    // AUDIT_LOGIN (1006) and every type from 1100 up are records; the rest
                    // of 1000–1099 are replies to control requests.
                    record(type, payload)
                    records += 1
                } else {
                    counters.controlMessages += 1
                }
                offset += (length + 3) & ~3
            }
        }
        if let failure { throw failure }
        return records
    }
}
