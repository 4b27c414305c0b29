import CAudit

/// Writes a kernel rule in `auditctl -l` form. This text is nodeaudit's canonical form of
/// a rule: wanted rules (encoded from files) and the kernel's rules (listed back) are
/// compared by it, so two spellings of one kernel rule compare equal.
package enum RuleFormatter {
    package static func text(_ rule: AuditRuleData) -> String {
        let fields = (0..<rule.fieldCount).map { index in
            Field(type: rule.field(index), value: rule.value(index), op: rule.fieldFlags(index) & Operator.mask)
        }
        // Strings are written as rule files spell them (`\ `, `\\`), so that the text
        // reads back as the same rule; auditctl -l writes them raw, which differs only for
        // paths and keys holding blanks or backslashes.
        let strings = stringValues(rule, fields).map { $0.map(RuleLineTokenizer.escaped) }
        var keys: [String] = []
        var watchPath: String?
        var permissions: String?
        var others: [String] = []
        var arch: UInt32?

        for (index, field) in fields.enumerated() {
            switch field.type {
            case UInt32(AUDIT_FILTERKEY):
                keys.append(contentsOf: (strings[index] ?? "").split(separator: "\u{01}").map(String.init))
            case UInt32(AUDIT_WATCH), UInt32(AUDIT_DIR):
                watchPath = strings[index]
                others.append("-F \(fieldName(field.type))\(op(field.op))\(strings[index] ?? "")")
            case UInt32(AUDIT_PERM):
                permissions = permissionLetters(field.value)
                others.append("-F perm=\(permissions ?? "")")
            case UInt32(AUDIT_ARCH):
                arch = field.value
                others.insert("-F arch\(op(field.op))\(archName(field.value))", at: 0)
            case UInt32(AUDIT_FIELD_COMPARE):
                others.append("-C \(comparison(field.value, op: field.op))")
            default:
                others.append("-F \(fieldName(field.type))\(op(field.op))\(valueText(field, string: strings[index]))")
            }
        }

        let list = rule.list
        let action = rule.action
        // A plain watch (path or dir with =, permissions, keys) reads back as -w.
        let watchFields: Set<UInt32> = [UInt32(AUDIT_WATCH), UInt32(AUDIT_DIR), UInt32(AUDIT_PERM), UInt32(AUDIT_FILTERKEY)]
        let onlyWatchFields = fields.allSatisfy { watchFields.contains($0.type) }
        let pathField = fields.first { $0.type == UInt32(AUDIT_WATCH) || $0.type == UInt32(AUDIT_DIR) }
        let pathFields = fields.filter { $0.type == UInt32(AUDIT_WATCH) || $0.type == UInt32(AUDIT_DIR) }.count
        let isPlainWatch = list == Int32(AUDIT_FILTER_EXIT) && action == UInt32(AUDIT_ALWAYS)
            && onlyWatchFields && pathFields == 1 && pathField?.op == Operator.equal
        if isPlainWatch, let watchPath {
            var parts = ["-w \(watchPath) -p \(permissions ?? "rwxa")"]
            parts += keys.map { "-k \($0)" }
            return parts.joined(separator: " ")
        }

        var parts = ["-a \(actionName(action)),\(listName(list))"]
        if let archIndex = others.firstIndex(where: { $0.hasPrefix("-F arch") }) {
            parts.append(others.remove(at: archIndex))
        }
        if let syscalls = syscallText(rule, arch: arch, list: list) { parts.append("-S \(syscalls)") }
        parts += others
        parts += keys.map { "-F key=\($0)" }
        return parts.joined(separator: " ")
    }

    /// The rule's keys (`-k`), in order.
    package static func keys(_ rule: AuditRuleData) -> [String] {
        let fields = (0..<rule.fieldCount).map { Field(type: rule.field($0), value: rule.value($0), op: 0) }
        let strings = stringValues(rule, fields)
        return zip(fields, strings).flatMap { field, string -> [String] in
            guard field.type == UInt32(AUDIT_FILTERKEY), let string else { return [] }
            return string.split(separator: "\u{01}").map(String.init)
        }
    }

    // MARK: - Pieces

    private struct Field {
        var type: UInt32
        var value: UInt32
        var op: UInt32
    }

    /// The kernel's string-valued fields; their value is a length into the buffer.
    private static let stringFields: Set<UInt32> = [
        UInt32(AUDIT_WATCH), UInt32(AUDIT_DIR), UInt32(AUDIT_FILTERKEY), UInt32(AUDIT_EXE),
        UInt32(AUDIT_SUBJ_USER), UInt32(AUDIT_SUBJ_ROLE), UInt32(AUDIT_SUBJ_TYPE), UInt32(AUDIT_SUBJ_SEN),
        UInt32(AUDIT_SUBJ_CLR), UInt32(AUDIT_OBJ_USER), UInt32(AUDIT_OBJ_ROLE), UInt32(AUDIT_OBJ_TYPE),
        UInt32(AUDIT_OBJ_LEV_LOW), UInt32(AUDIT_OBJ_LEV_HIGH),
    ]

    private static func stringValues(_ rule: AuditRuleData, _ fields: [Field]) -> [String?] {
        let buffer = rule.buffer
        var offset = buffer.startIndex
        return fields.map { field in
            guard stringFields.contains(field.type) else { return nil }
            let end = min(offset + Int(field.value), buffer.endIndex)
            let text = String(decoding: buffer[offset..<end], as: UTF8.self)
            offset = end
            return text
        }
    }

    private static let idFields: Set<UInt32> = [
        UInt32(AUDIT_UID), UInt32(AUDIT_EUID), UInt32(AUDIT_SUID), UInt32(AUDIT_FSUID), UInt32(AUDIT_LOGINUID),
        UInt32(AUDIT_OBJ_UID), UInt32(AUDIT_GID), UInt32(AUDIT_EGID), UInt32(AUDIT_SGID), UInt32(AUDIT_FSGID),
        UInt32(AUDIT_OBJ_GID), UInt32(AUDIT_SESSIONID),
    ]

    private static func valueText(_ field: Field, string: String?) -> String {
        if let string { return string }
        switch field.type {
        case UInt32(AUDIT_ARG0)...UInt32(AUDIT_ARG0 + 3):
            return "0x" + String(field.value, radix: 16, uppercase: true)
        case UInt32(AUDIT_EXIT):
            let value = Int32(bitPattern: field.value)
            if value < 0, let name = audit_errno_to_name(-value) { return "-" + String(cString: name) }
            return String(value)
        case UInt32(AUDIT_MSGTYPE):
            return audit_msg_type_to_name(Int32(bitPattern: field.value)).map { String(cString: $0) } ?? String(field.value)
        case UInt32(AUDIT_FILETYPE):
            return audit_ftype_to_name(Int32(bitPattern: field.value)).map { String(cString: $0) } ?? String(field.value)
        case UInt32(AUDIT_FSTYPE):
            return audit_fstype_to_name(Int32(bitPattern: field.value)).map { String(cString: $0) } ?? String(field.value)
        default:
            // Ids are signed to the kernel: unset (4294967295) reads as -1, as auditctl prints it.
            if idFields.contains(field.type) { return String(Int32(bitPattern: field.value)) }
            return String(field.value)
        }
    }

    private static func fieldName(_ type: UInt32) -> String {
        audit_field_to_name(Int32(bitPattern: type)).map { String(cString: $0) } ?? "field\(type)"
    }

    /// The kernel's operator bits (linux/audit.h; the combined ones are macros Swift cannot import).
    private enum Operator {
        static let bitMask: UInt32 = 0x0800_0000
        static let lessThan: UInt32 = 0x1000_0000
        static let greaterThan: UInt32 = 0x2000_0000
        static let notEqual: UInt32 = 0x3000_0000
        static let equal: UInt32 = 0x4000_0000
        static let mask: UInt32 = equal | notEqual | bitMask
    }

    private static func op(_ op: UInt32) -> String {
        switch op {
        case Operator.equal: return "="
        case Operator.notEqual: return "!="
        case Operator.bitMask: return "&"
        case Operator.bitMask | Operator.equal: return "&="
        case Operator.lessThan: return "<"
        case Operator.greaterThan: return ">"
        case Operator.lessThan | Operator.equal: return "<="
        case Operator.greaterThan | Operator.equal: return ">="
        default: return "?\(op)?"
        }
    }

    private static func permissionLetters(_ value: UInt32) -> String {
        var letters = ""
        if value & UInt32(AUDIT_PERM_READ) != 0 { letters += "r" }
        if value & UInt32(AUDIT_PERM_WRITE) != 0 { letters += "w" }
        if value & UInt32(AUDIT_PERM_EXEC) != 0 { letters += "x" }
        if value & UInt32(AUDIT_PERM_ATTR) != 0 { letters += "a" }
        return letters.isEmpty ? "rwxa" : letters
    }

    /// `b64` / `b32` for the architectures auditctl names so, else the ELF number.
    private static func archName(_ elf: UInt32) -> String {
        guard audit_elf_to_machine(elf) >= 0 else { return "0x" + String(elf, radix: 16) }
        return elf & 0x8000_0000 != 0 ? "b64" : "b32"
    }

    private static func actionName(_ action: UInt32) -> String {
        audit_action_to_name(Int32(bitPattern: action)).map { String(cString: $0) } ?? "action\(action)"
    }

    private static func listName(_ list: Int32) -> String {
        audit_flag_to_name(list).map { String(cString: $0) } ?? "list\(list)"
    }

    /// `-S` text: `all` (on the syscall lists), or the syscall names in number order. The
    /// last mask word holds the kernel's syscall-class bits, which it rewrites, so it is
    /// not compared.
    private static func syscallText(_ rule: AuditRuleData, arch: UInt32?, list: Int32) -> String? {
        let words = AuditRuleData.maskWords - 1
        if (0..<words).allSatisfy({ rule.mask($0) == UInt32.max }) {
            let syscallLists = [Int32(AUDIT_FILTER_EXIT), Int32(AUDIT_FILTER_ENTRY), Int32(AUDIT_FILTER_URING_EXIT)]
            return syscallLists.contains(list) ? "all" : nil
        }
        let machine: Int32
        if let arch, audit_elf_to_machine(arch) >= 0 {
            machine = audit_elf_to_machine(arch)
        } else {
            machine = audit_detect_machine()
        }
        var names: [String] = []
        for word in 0..<words {
            let bits = rule.mask(word)
            if bits == 0 { continue }
            for bit in 0..<32 where bits & (1 << UInt32(bit)) != 0 {
                let number = Int32(word * 32 + bit)
                names.append(audit_syscall_to_name(number, machine).map { String(cString: $0) } ?? String(number))
            }
        }
        return names.isEmpty ? nil : names.joined(separator: ",")
    }

    private static func comparison(_ value: UInt32, op: UInt32) -> String {
        let pairs: [UInt32: (String, String)] = [
            1: ("uid", "obj_uid"), 2: ("gid", "obj_gid"), 3: ("euid", "obj_uid"), 4: ("egid", "obj_gid"),
            5: ("auid", "obj_uid"), 6: ("suid", "obj_uid"), 7: ("sgid", "obj_gid"), 8: ("fsuid", "obj_uid"),
            9: ("fsgid", "obj_gid"), 10: ("uid", "auid"), 11: ("uid", "euid"), 12: ("uid", "fsuid"),
            13: ("uid", "suid"), 14: ("auid", "fsuid"), 15: ("auid", "suid"), 16: ("auid", "euid"),
            17: ("euid", "suid"), 18: ("euid", "fsuid"), 19: ("suid", "fsuid"), 20: ("gid", "egid"),
            21: ("gid", "fsgid"), 22: ("gid", "sgid"), 23: ("egid", "fsgid"), 24: ("egid", "sgid"),
            25: ("sgid", "fsgid"),
        ]
        guard let (left, right) = pairs[value] else { return "compare\(value)\(self.op(op))?" }
        return "\(left)\(self.op(op))\(right)"
    }
}
