import AuditRecords

/// A field name an interpreter reads, recognised from a record's key bytes.
protocol InterpretedField: RawRepresentable where RawValue == UInt8 {
    init?(key: UnsafeBufferPointer<UInt8>)
}

/// Where the fields an interpreter reads are in one record, found in one pass over its
/// fields: a SYSCALL record has some 30 fields and the interpreter reads 25 of them, which
/// one lookup each made a scan each (perf: a tenth of the offline parse).
///
/// The first field of a name counts, as with `AuditRecord.raw`.
struct FieldIndex<Field: InterpretedField> {
    /// Value start << 32 | value end, by field; 0 where the record has none (a value never
    /// starts at 0: its key comes first).
    private var positions = InlineArray<32, UInt64>(repeating: 0)

    init(_ record: AuditRecord) {
        record.withContents { bytes, fields, _ in
            for field in fields {
                guard let name = Field(key: UnsafeBufferPointer(rebasing: bytes[field.keyRange])) else { continue }
                let slot = Int(name.rawValue)
                if positions[slot] == 0 {
                    positions[slot] = UInt64(UInt32(field.valueStart)) << 32 | UInt64(UInt32(field.valueEnd))
                }
            }
        }
    }

    /// The value's range in the record's body.
    subscript(_ field: Field) -> Range<Int>? {
        let position = positions[Int(field.rawValue)]
        guard position != 0 else { return nil }
        return Int(position >> 32)..<Int(position & 0xFFFF_FFFF)
    }

    /// An unsigned decimal field (`pid`, `uid`).
    func unsigned(_ field: Field, of record: AuditRecord) -> UInt64? {
        self[field].flatMap { record.withValue(at: $0, ByteNumbers.decimal) }
    }
}

/// The fields of a process and its syscall (SYSCALL records, and the process fields of
/// user-space messages and others).
enum ProcessField: UInt8, InterpretedField {
    case pid, ppid, exe, comm, tty, ses
    case auid, uid, gid, euid, suid, fsuid, egid, sgid, fsgid
    case syscall, arch, exit, success, a0, a1, a2, a3, items, key

    init?(key k: UnsafeBufferPointer<UInt8>) {
        switch k.count {
        case 2:
            guard k[0] == UInt8(ascii: "a") else { return nil }
            switch k[1] {
            case UInt8(ascii: "0"): self = .a0
            case UInt8(ascii: "1"): self = .a1
            case UInt8(ascii: "2"): self = .a2
            case UInt8(ascii: "3"): self = .a3
            default: return nil
            }
        case 3:
            if k.equals("pid") { self = .pid }
            else if k.equals("uid") { self = .uid }
            else if k.equals("gid") { self = .gid }
            else if k.equals("exe") { self = .exe }
            else if k.equals("tty") { self = .tty }
            else if k.equals("ses") { self = .ses }
            else if k.equals("key") { self = .key }
            else { return nil }
        case 4:
            if k.equals("ppid") { self = .ppid }
            else if k.equals("auid") { self = .auid }
            else if k.equals("euid") { self = .euid }
            else if k.equals("suid") { self = .suid }
            else if k.equals("egid") { self = .egid }
            else if k.equals("sgid") { self = .sgid }
            else if k.equals("comm") { self = .comm }
            else if k.equals("arch") { self = .arch }
            else if k.equals("exit") { self = .exit }
            else { return nil }
        case 5:
            if k.equals("fsuid") { self = .fsuid }
            else if k.equals("fsgid") { self = .fsgid }
            else if k.equals("items") { self = .items }
            else { return nil }
        case 7:
            if k.equals("syscall") { self = .syscall }
            else if k.equals("success") { self = .success }
            else { return nil }
        default:
            return nil
        }
    }

}

/// The fields of a PATH record: one per file an event names, so several per event.
enum PathField: UInt8, InterpretedField {
    case item, name, nametype, inode, dev, mode, ouid, ogid

    init?(key k: UnsafeBufferPointer<UInt8>) {
        switch k.count {
        case 3:
            guard k.equals("dev") else { return nil }
            self = .dev
        case 4:
            if k.equals("item") { self = .item }
            else if k.equals("name") { self = .name }
            else if k.equals("mode") { self = .mode }
            else if k.equals("ouid") { self = .ouid }
            else if k.equals("ogid") { self = .ogid }
            else { return nil }
        case 5:
            guard k.equals("inode") else { return nil }
            self = .inode
        case 8:
            guard k.equals("nametype") else { return nil }
            self = .nametype
        default:
            return nil
        }
    }
}
