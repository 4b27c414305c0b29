import CAudit
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A rule ready for the kernel, with the line it came from.
package struct EncodedRule: Sendable {
    package var data: AuditRuleData
    package var prepend: Bool
    package var source: RuleSource

    package init(data: AuditRuleData, prepend: Bool, source: RuleSource) {
        self.data = data
        self.prepend = prepend
        self.source = source
    }

    /// The flags to send: the list, and the prepend bit for `-A`.
    package var sendFlags: Int32 { data.list | (prepend ? Int32(AUDIT_FILTER_PREPEND) : 0) }
}

/// Builds the kernel's rule structure from a `RuleSpec` through libaudit, replaying the
/// parts in file order exactly as auditctl does, so the kernel receives the same bytes.
///
/// libaudit keeps rule-building state in process globals; encoding is therefore
/// serialized behind one lock and the globals are reset before every rule.
package enum RuleEncoder {
    private static let libauditState = Mutex<Void>(())

    /// `root`: where the node's root directory is seen (empty: `/`); a watch on a
    /// directory there is a directory watch, as auditctl decides by looking at the path.
    package static func encode(_ spec: RuleSpec, prepend: Bool = false, source: RuleSource, root: String = "") throws(RuleError) -> EncodedRule {
        let result: Result<AuditRuleData, RuleError> = libauditState.withLock { _ in
            do throws(RuleError) {
                return .success(try build(spec, source: source, root: root))
            } catch {
                return .failure(error)
            }
        }
        let data = try result.get()
        return EncodedRule(data: data.with(flags: UInt32(spec.list), action: UInt32(spec.action)),
                           prepend: prepend, source: source)
    }

    private static func build(_ spec: RuleSpec, source: RuleSource, root: String) throws(RuleError) -> AuditRuleData {
        nodeaudit_reset_rule_state()
        guard var rule: UnsafeMutablePointer<audit_rule_data> = audit_rule_create_data() else {
            throw RuleError(source, "out of memory building the rule")
        }
        defer { audit_rule_free_data(rule) }
        let flags = spec.list
        var keys: [String] = []

        for part in spec.parts {
            switch part {
            case .watch(let path):
                let trimmed = String(decoding: trimmingSlashes(path), as: UTF8.self)
                let type = isDirectory(root + trimmed) ? AUDIT_DIR : AUDIT_WATCH
                var pointer: UnsafeMutablePointer<audit_rule_data>? = rule
                guard audit_add_watch_dir(Int32(type), &pointer, trimmed) == 0, let updated = pointer else {
                    throw RuleError(source, "the watch on '\(path)' could not be built")
                }
                rule = updated
                nodeaudit_mark_syscall_added()
            case .permissions(let letters):
                var perms: Int32 = 0
                for letter in letters.lowercased() {
                    switch letter {
                    case "r": perms |= Int32(AUDIT_PERM_READ)
                    case "w": perms |= Int32(AUDIT_PERM_WRITE)
                    case "x": perms |= Int32(AUDIT_PERM_EXEC)
                    default: perms |= Int32(AUDIT_PERM_ATTR)
                    }
                }
                guard audit_update_watch_perms(rule, perms) == 0 else {
                    throw RuleError(source, "-p \(letters): permissions need a watch or a path field")
                }
                nodeaudit_mark_perm_added()
            case .syscalls(let list):
                if nodeaudit_rule_elf() == 0 {
                    let machine = audit_detect_machine()
                    let elf = machine >= 0 ? audit_machine_to_elf(machine) : 0
                    guard elf != 0 else { throw RuleError(source, "cannot tell this machine's architecture for -S") }
                    nodeaudit_set_rule_elf(UInt32(truncatingIfNeeded: elf))
                }
                for name in list.split(separator: ",", omittingEmptySubsequences: false) {
                    let rc = audit_rule_syscallbyname_data(rule, String(name))
                    switch rc {
                    case 0: break
                    case -2: throw RuleError(source, "-S \(name): unknown architecture 0x\(String(nodeaudit_rule_elf(), radix: 16))")
                    default: throw RuleError(source, "-S \(name): unknown syscall on this architecture", dependsOnHost: true)
                    }
                }
                nodeaudit_mark_syscall_added()
            case .field(let pair):
                var pointer: UnsafeMutablePointer<audit_rule_data>? = rule
                let rc = audit_rule_fieldpair_data(&pointer, pair, flags)
                if let updated = pointer { rule = updated }
                guard rc == 0 else { throw RuleError(source, "-F " + LibauditErrors.message(rc, pair), dependsOnHost: rc == -38) }
                let last = rule.pointee.field_count > 0 ? fieldType(rule, Int(rule.pointee.field_count) - 1) : 0
                if last == UInt32(AUDIT_PERM) { nodeaudit_mark_perm_added() }
                if last == UInt32(AUDIT_EXE) { nodeaudit_mark_exe_added() }
            case .comparison(let pair):
                var pointer: UnsafeMutablePointer<audit_rule_data>? = rule
                let rc = audit_rule_interfield_comp_data(&pointer, pair, flags)
                if let updated = pointer { rule = updated }
                guard rc == 0 else { throw RuleError(source, "-C " + LibauditErrors.message(rc, pair)) }
            case .key(let key):
                guard nodeaudit_key_allowed() != 0 else {
                    throw RuleError(source, "-k \(key): a key needs a watch, a syscall, a permission or an exe before it")
                }
                keys.append(key)
            }
        }
        if !keys.isEmpty {
            let pair = "key=" + keys.joined(separator: "\u{01}")
            var pointer: UnsafeMutablePointer<audit_rule_data>? = rule
            let rc = audit_rule_fieldpair_data(&pointer, pair, flags)
            if let updated = pointer { rule = updated }
            guard rc == 0 else { throw RuleError(source, "-k " + LibauditErrors.message(rc, keys.joined(separator: ","))) }
        }
        // Like auditctl: a rule on a syscall list without -S applies to every syscall.
        if spec.list != Int32(AUDIT_FILTER_TASK), nodeaudit_syscall_added() != 1 {
            _ = audit_rule_syscallbyname_data(rule, "all")
        }
        let length = AuditRuleData.headerSize + Int(rule.pointee.buflen)
        guard let data = AuditRuleData(pointer: UnsafeRawPointer(rule), length: length) else {
            throw RuleError(source, "libaudit built an inconsistent rule")
        }
        return data
    }

    /// The directory this host lacks for a watch in `spec`, if any: the kernel refuses a
    /// watch whose parent directory is missing (for `-F dir=`, the directory itself).
    /// `root`: where the node's root directory is seen (empty: `/`).
    package static func missingWatchDirectory(_ spec: RuleSpec, root: String = "") -> String? {
        for part in spec.parts {
            let path: String
            var needsItself = false
            switch part {
            case .watch(let watched):
                path = watched
            case .field(let pair):
                let lowered = pair.lowercased()
                if lowered.hasPrefix("dir=") { needsItself = true } else if !lowered.hasPrefix("path=") { continue }
                path = String(pair[pair.index(after: pair.firstIndex(of: "=")!)...])
            default:
                continue
            }
            let bytes = trimmingSlashes(path)
            let trimmed = String(decoding: bytes, as: UTF8.self)
            var info = stat()
            if stat(root + trimmed, &info) == 0 { continue }
            if needsItself { return trimmed }
            let parent = bytes.lastIndex(of: UInt8(ascii: "/")).map { String(decoding: bytes[..<max($0, 1)], as: UTF8.self) } ?? "/"
            if !isDirectory(root + parent) { return parent }
        }
        return nil
    }

    /// `path` without trailing slashes (`/` stays), as auditctl names a watch.
    private static func trimmingSlashes(_ path: String) -> [UInt8] {
        var bytes = Array(path.utf8)
        while bytes.count > 1, bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
        return bytes
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    private static func fieldType(_ rule: UnsafeMutablePointer<audit_rule_data>, _ index: Int) -> UInt32 {
        withUnsafeBytes(of: rule.pointee.fields) { $0.load(fromByteOffset: 4 * index, as: UInt32.self) }
    }
}
