import CAudit

/// The kernel's form of an audit rule (`struct audit_rule_data` and its string buffer),
/// as nodeaudit sends it and as the kernel lists it back.
///
/// Comparing rules in this form, through `RuleFormatter`, is what makes `rules diff`
/// exact: a rule written two ways in files (`-S open,openat` / `-S openat -S open`,
/// `uid=root` / `uid=0`) is one rule to the kernel, and to nodeaudit.
package struct AuditRuleData: Sendable, Hashable {
    package let bytes: [UInt8]

    /// The size of the fixed part of the structure, before the string buffer.
    package static let headerSize = MemoryLayout<audit_rule_data>.size
    package static let maxFields = Int(AUDIT_MAX_FIELDS)
    package static let maskWords = Int(AUDIT_BITMASK_SIZE)

    /// Copies a rule out of libaudit or a netlink reply; nil when the length does not
    /// cover the header and its buffer.
    package init?(pointer: UnsafeRawPointer, length: Int) {
        guard length >= Self.headerSize else { return nil }
        let buflen = Int(pointer.loadUnaligned(fromByteOffset: Self.headerSize - 4, as: UInt32.self))
        guard buflen <= length - Self.headerSize else { return nil }
        bytes = Array(UnsafeRawBufferPointer(start: pointer, count: Self.headerSize + buflen))
    }

    /// The same rule with its list flags and action set.
    package func with(flags: UInt32, action: UInt32) -> AuditRuleData {
        var copy = bytes
        copy.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: flags, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: action, toByteOffset: 4, as: UInt32.self)
        }
        return AuditRuleData(bytes: copy)
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private func word(_ offset: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: UInt32.self) }
    }

    package var flags: UInt32 { word(0) }
    /// The filter list, without the prepend flag.
    package var list: Int32 { Int32(flags & UInt32(AUDIT_FILTER_MASK)) }
    package var action: UInt32 { word(4) }
    package var fieldCount: Int { min(Int(word(8)), Self.maxFields) }
    package func mask(_ index: Int) -> UInt32 { word(12 + 4 * index) }
    package func field(_ index: Int) -> UInt32 { word(12 + 4 * Self.maskWords + 4 * index) }
    package func value(_ index: Int) -> UInt32 { word(12 + 4 * Self.maskWords + 4 * Self.maxFields + 4 * index) }
    package func fieldFlags(_ index: Int) -> UInt32 { word(12 + 4 * Self.maskWords + 8 * Self.maxFields + 4 * index) }

    /// The string buffer that string-valued fields index into, in field order.
    package var buffer: ArraySlice<UInt8> { bytes[Self.headerSize...] }

    /// Whether the rule names a file or directory (a watch, `-F path=`, `-F dir=`), which
    /// the kernel resolves when the rule is added.
    package var namesPath: Bool {
        (0..<fieldCount).contains { field($0) == UInt32(AUDIT_WATCH) || field($0) == UInt32(AUDIT_DIR) }
    }

    /// Calls `body` with a pointer to the rule for libaudit (which does not keep it).
    package func withRulePointer<R>(_ body: (UnsafeMutablePointer<audit_rule_data>) -> R) -> R {
        var copy = bytes
        return copy.withUnsafeMutableBytes { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: audit_rule_data.self))
        }
    }
}
