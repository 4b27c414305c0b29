import AuditRecords
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
package final class AuditEventSocket {
    package enum Mode: Sendable {
        /// Registered as the audit daemon (needs CAP_AUDIT_CONTROL, the initial pid namespace).
        case unicast
        /// A read-only multicast listener (needs CAP_AUDIT_READ).
        case multicast
    }

    /// What the socket counted.
    package struct Counters: Sendable {
        /// Receive-buffer overflows: records the kernel could not queue for us.
        package var overflows: UInt64 = 0
        package var messages: UInt64 = 0
        /// Netlink messages that were not audit records (acks, replies).
        package var controlMessages: UInt64 = 0
    }

    package let mode: Mode
    package private(set) var counters = Counters()
    private let fd: Int32
    /// `slotCount` receive buffers of `slotBytes` each, filled by one recvmmsg. Pages
    /// are touched only as far as records reach, so most of this stays unresident.
    private let slots: UnsafeMutableRawPointer
    private let vectors: UnsafeMutablePointer<iovec>
    private let messages: UnsafeMutablePointer<nodeaudit_message>
    private var registered = false

    /// A datagram's room: more than the largest record the kernel sends, with headroom.
    private static let slotBytes = 64 * 1024
    /// Datagrams per system call; a busy node's few milliseconds of records.
    private static let slotCount = 64
    /// Netlink multicast group of the audit log (linux/audit.h AUDIT_NLGRP_READLOG).
    private static let readLogGroup: Int32 = 1
    private static let solNetlink: Int32 = 270
    /// struct nlmsghdr, before every message's payload.
    static let netlinkHeaderBytes = MemoryLayout<nlmsghdr>.size
    private static let netlinkAddMembership: Int32 = 1

    /// Opens the socket and asks for a receive buffer of `receiveBufferBytes` (forced past
    /// the system limit where CAP_NET_ADMIN allows).
    package init(mode: Mode, receiveBufferBytes: Int32) throws(KernelError) {
        self.mode = mode
        switch mode {
        case .unicast:
            fd = audit_open()
            guard fd >= 0 else { throw KernelError("opening the audit netlink socket", errno: errno) }
        case .multicast:
            let opened = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), NETLINK_AUDIT)
            guard opened >= 0 else { throw KernelError("opening the audit netlink socket", errno: errno) }
            var address = sockaddr_nl()
            address.nl_family = sa_family_t(AF_NETLINK)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(opened, $0, socklen_t(MemoryLayout<sockaddr_nl>.size)) }
            }
            var group = Self.readLogGroup
            guard bound == 0,
                  setsockopt(opened, Self.solNetlink, Self.netlinkAddMembership, &group, socklen_t(MemoryLayout<Int32>.size)) == 0
            else {
                let error = errno
                close(opened)
                throw KernelError("joining the audit multicast group (needs CAP_AUDIT_READ)", errno: error)
            }
            fd = opened
        }
        var size = receiveBufferBytes
        if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        // Once the socket is open: a throw above would leave these to nobody (no deinit).
        slots = UnsafeMutableRawPointer.allocate(byteCount: Self.slotBytes * Self.slotCount, alignment: 16)
        vectors = .allocate(capacity: Self.slotCount)
        messages = .allocate(capacity: Self.slotCount)
        for slot in 0..<Self.slotCount {
            vectors[slot] = iovec(iov_base: slots + slot * Self.slotBytes, iov_len: Self.slotBytes)
            messages[slot] = nodeaudit_message()
            messages[slot].header.msg_iov = vectors + slot
            messages[slot].header.msg_iovlen = 1
        }
    }

    deinit {
        if registered { _ = audit_set_pid(fd, 0, WAIT_NO) }
        close(fd)
        slots.deallocate()
        vectors.deallocate()
        messages.deallocate()
    }

    /// The file descriptor, for `poll`.
    package var descriptor: Int32 { fd }

    /// The receive buffer the kernel granted, in bytes.
    package var receiveBufferBytes: Int32 {
        var size: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, &length)
        return size
    }

    /// Registers this process as the audit daemon (unicast). The kernel's answer arrives
    /// on this socket as an ack or error; `receive` reports a refusal.
    package func register() throws(KernelError) {
        guard mode == .unicast else { return }
        guard audit_set_pid(fd, UInt32(getpid()), WAIT_NO) > 0 else {
            throw KernelError("registering as the audit daemon", errno: errno)
        }
        registered = true
    }

    /// Gives the audit pid back, so the kernel stops sending to us.
    package func unregister() {
        guard registered else { return }
        _ = audit_set_pid(fd, 0, WAIT_NO)
        registered = false
    }

    /// Reads the messages waiting, without blocking, at most `batchLimit` system calls of
    /// `slotCount` messages, and hands each audit record to `record(type, payload)`: a
    /// flood that comes faster than its records are handled must not keep the caller
    /// from its other work (flushing the events, a stop request). Returns how many
    /// records were read, and whether the socket was read to its end; throws when the
    /// kernel refused a request (registration) or the socket failed, or when `record`
    /// threw (the rest of that read is left unread).
    package func drain<E: Error>(batchLimit: Int, _ record: (UInt16, UnsafeRawBufferPointer) throws(E) -> Void)
        throws(StreamReadError<E>) -> (records: Int, emptied: Bool) {
        var records = 0
        for _ in 0..<batchLimit {
            let received = nodeaudit_receive_messages(fd, messages, UInt32(Self.slotCount), Int32(MSG_DONTWAIT))
            if received < 0 {
                switch errno {
                case EAGAIN, EWOULDBLOCK: return (records, true)
                case EINTR: continue
                case ENOBUFS:
                    counters.overflows += 1
                    continue
                default: throw .kernel(KernelError("reading audit records", errno: errno))
                }
            }
            // A refusal is thrown after the whole batch: the records around it are read.
            var refusal: KernelError?
            for slot in 0..<Int(received) {
                let datagram = UnsafeRawBufferPointer(start: slots + slot * Self.slotBytes, count: Int(messages[slot].length))
                do throws(E) { records += try parse(datagram, refusal: &refusal, record) } catch { throw .consumer(error) }
            }
            if let refusal { throw .kernel(refusal) }
            // Fewer than asked for: the socket was empty (an error after the last one
            // received, such as an overflow, is reported by the next call).
            if received < Self.slotCount { return (records, true) }
        }
        return (records, false)
    }

    /// Walks the netlink messages in one datagram; a kernel refusal goes to `refusal`.
    private func parse<E: Error>(_ raw: UnsafeRawBufferPointer, refusal: inout KernelError?,
                                 _ record: (UInt16, UnsafeRawBufferPointer) throws(E) -> Void) throws(E) -> Int {
        var records = 0
        var offset = 0
        let header = Self.netlinkHeaderBytes
        while offset + header <= raw.count {
            var length = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
            let type = raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt16.self)
            let isRecord = RecordType(number: UInt32(type)).isRecord
            // The kernel sets nlmsg_len of audit records to the payload length alone (a
            // historical quirk kept for compatibility); every other message counts its header.
            if isRecord { length = min(length + header, raw.count - offset) }
            guard length >= header, offset + length <= raw.count else { break }
            let payload = UnsafeRawBufferPointer(rebasing: raw[(offset + header)..<(offset + length)])
            counters.messages += 1
            if type == UInt16(NLMSG_ERROR) {
                counters.controlMessages += 1
                let code = payload.count >= 4 ? payload.loadUnaligned(as: Int32.self) : 0
                if code != 0 { refusal = KernelError("the kernel refused a request", errno: -code) }
            } else if isRecord {
                try record(type, payload)
                records += 1
            } else {
                counters.controlMessages += 1
            }
            offset += (length + 3) & ~3
        }
        return records
    }
}

/// Why reading the record stream stopped: the kernel or the socket failed, or whoever
/// was handed a record did (its error, as it threw it).
package enum StreamReadError<Failure: Error>: Error {
    case kernel(KernelError)
    case consumer(Failure)
}
