import HostIO
import AuditRules
import CAudit
#if canImport(Glibc)
import Glibc
#endif

/// A failed exchange with the kernel's audit subsystem.
package struct KernelError: Error, Sendable, CustomStringConvertible {
    package var operation: String
    package var errno: Int32

    package init(_ operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    package var description: String {
        var reason = SystemError.text(errno)
        if errno == EPERM || errno == EACCES { reason += " (needs root: CAP_AUDIT_CONTROL)" }
        if errno == ECONNREFUSED { reason += " (audit is not available in this kernel or namespace)" }
        return "\(operation): \(reason)"
    }
}

/// What nodeaudit asks of the kernel's audit control channel: status, settings and
/// rules. `AuditControl` is the kernel's; the rule engine and the state a trial run puts
/// back take any, so that they are tested offline against a stand-in.
package protocol AuditControlChannel: AnyObject {
    func status() throws(KernelError) -> AuditStatus
    func apply(_ setting: StatusSetting) throws(KernelError)
    @discardableResult func resetLost() throws(KernelError) -> UInt32
    func setLoginuidImmutable() throws(KernelError)
    func rules() throws(KernelError) -> [AuditRuleData]
    func add(_ rule: EncodedRule) throws(KernelError)
    func delete(_ rule: AuditRuleData) throws(KernelError)
}


/// The audit control channel: status, settings and rules, through libaudit's netlink
/// calls. One request at a time; replies are awaited with a timeout, never forever.
package final class AuditControl: AuditControlChannel {
    private let fd: Int32
    private let reply: UnsafeMutablePointer<audit_reply>
    private let timeoutMilliseconds: Int32
    /// The node's root directory as this process sees it, when it is not `/`: a pod sees
    /// the node's files under a host mount, and the kernel resolves a watch's path in the
    /// mount namespace of whoever adds it. Rules naming paths are then added from a thread
    /// rooted there, so that they watch the node's files under the same names.
    private let pathRoot: String?

    package init(timeoutMilliseconds: Int32 = 4000, pathRoot: String? = nil) throws(KernelError) {
        let fd = audit_open()
        guard fd >= 0 else { throw KernelError("opening the audit netlink socket", errno: errno) }
        self.fd = fd
        self.timeoutMilliseconds = timeoutMilliseconds
        self.pathRoot = pathRoot.flatMap { $0.isEmpty || $0 == "/" ? nil : $0 }
        reply = .allocate(capacity: 1)
    }

    deinit {
        audit_close(fd)
        reply.deallocate()
    }

    // MARK: Status and settings

    package func status() throws(KernelError) -> AuditStatus {
        guard audit_request_status(fd) > 0 else { throw KernelError("requesting audit status", errno: errno) }
        while true {
            let type = try receive("reading audit status")
            if type == Int32(AUDIT_GET), let status = reply.pointee.status { return AuditStatus(status.pointee) }
        }
    }

    package func apply(_ setting: StatusSetting) throws(KernelError) {
        let rc = KernelSetting.row(setting.kind).set(fd, setting.value)
        guard rc > 0 else { throw KernelError("setting \(setting.option)", errno: rc < 0 ? -rc : errno) }
    }

    /// Resets the kernel's lost counter; returns the value it had.
    @discardableResult
    package func resetLost() throws(KernelError) -> UInt32 {
        let rc = audit_reset_lost(fd)
        guard rc >= 0 else { throw KernelError("resetting the lost counter", errno: -rc) }
        return UInt32(rc)
    }

    package func setLoginuidImmutable() throws(KernelError) {
        guard audit_set_loginuid_immutable(fd) > 0 else { throw KernelError("making loginuid immutable", errno: errno) }
    }

    // MARK: Rules

    /// The kernel's rules, in its order.
    package func rules() throws(KernelError) -> [AuditRuleData] {
        guard audit_request_rules_list_data(fd) > 0 else { throw KernelError("listing audit rules", errno: errno) }
        var rules: [AuditRuleData] = []
        while true {
            let type = try receive("listing audit rules")
            if type == Int32(NLMSG_DONE) { return rules }
            if type == Int32(AUDIT_LIST_RULES), let data = reply.pointee.ruledata, let header = reply.pointee.nlh {
                let length = Int(header.pointee.nlmsg_len) - AuditEventSocket.netlinkHeaderBytes
                if let rule = AuditRuleData(pointer: UnsafeRawPointer(data), length: length) { rules.append(rule) }
            }
        }
    }

    package func add(_ rule: EncodedRule) throws(KernelError) {
        guard let pathRoot, rule.data.namesPath else { return try send(rule) }
        var result: Result<Void, KernelError> = .success(())
        let entered = WorkerThread.inRoot(pathRoot) {
            do throws(KernelError) { try send(rule) } catch { result = .failure(error) }
        }
        guard entered == 0 else { throw KernelError("entering \(pathRoot) (the node's root) to add a watch", errno: entered) }
        try result.get()
    }

    private func send(_ rule: EncodedRule) throws(KernelError) {
        let rc = rule.data.withRulePointer { audit_add_rule_data(fd, $0, rule.sendFlags, Int32(rule.data.action)) }
        guard rc > 0 else { throw KernelError("adding a rule", errno: rc < 0 ? -rc : errno) }
    }

    package func delete(_ rule: AuditRuleData) throws(KernelError) {
        let rc = rule.withRulePointer { audit_delete_rule_data(fd, $0, rule.list, Int32(rule.action)) }
        guard rc > 0 else { throw KernelError("deleting a rule", errno: rc < 0 ? -rc : errno) }
    }

    // MARK: Replies

    /// Waits for the next reply and returns its type; acks are skipped, errors thrown.
    private func receive(_ operation: String) throws(KernelError) -> Int32 {
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, timeoutMilliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                throw KernelError(operation, errno: errno)
            }
            guard ready > 0 else { throw KernelError(operation + " (no reply from the kernel)", errno: ETIMEDOUT) }
            let rc = audit_get_reply(fd, reply, GET_REPLY_NONBLOCKING, 0)
            if rc <= 0 { continue }
            let type = reply.pointee.type
            if type == Int32(NLMSG_ERROR), let error = reply.pointee.error {
                if error.pointee.error == 0 { continue }
                throw KernelError(operation, errno: -error.pointee.error)
            }
            return type
        }
    }
}
