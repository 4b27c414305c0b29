/// Keystrokes from TTY and USER_TTY records (pam_tty_audit) made readable: text stays,
/// control keys become `<ret>`, `<tab>`, `<backspace>`, `<up>`, `<^C>`…, as an incident
/// responder reads them (the same names `aureport --tty` uses where it has one).
public enum TTYInput {
    public static func readable(_ input: Bytes) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(input.count + 16)
        var index = input.startIndex
        func emit(_ name: String) { out.append(contentsOf: "<\(name)>".utf8) }
        while index < input.endIndex {
            let byte = input[index]
            index += 1
            switch byte {
            case 0x0D, 0x0A: emit("ret")
            case 0x09: emit("tab")
            case 0x7F, 0x08: emit("backspace")
            case 0x1B:
                if let (name, length) = escapeSequence(input[index...]) {
                    emit(name)
                    index += length
                } else {
                    emit("esc")
                }
            case 0x00..<0x20: emit("^" + String(UnicodeScalar(byte + 0x40)))
            default: out.append(byte)
            }
        }
        return out
    }

    /// The key an escape sequence (after ESC) stands for, and how many bytes it has.
    private static func escapeSequence(_ rest: Bytes) -> (String, Int)? {
        let keys: [(String, String)] = [
            ("[A", "up"), ("[B", "down"), ("[C", "right"), ("[D", "left"), ("OA", "up"), ("OB", "down"), ("OC", "right"),
            ("OD", "left"), ("[H", "home"), ("[F", "end"), ("[1~", "home"), ("[4~", "end"), ("[2~", "insert"),
            ("[3~", "delete"), ("[5~", "pgup"), ("[6~", "pgdown"),
        ]
        for (sequence, name) in keys where rest.starts(with: sequence.utf8) { return (name, sequence.utf8.count) }
        return nil
    }
}
