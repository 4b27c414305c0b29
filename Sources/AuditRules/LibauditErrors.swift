/// Plain-language messages for the negative codes libaudit's rule builders return.
enum LibauditErrors {
    static func message(_ code: Int32, _ text: String) -> String {
        switch code {
        case -1: return "'\(text)': missing operator (=, !=, <, >, <=, >=, &, &=)"
        case -2: return "'\(text)': unknown field"
        case -3: return "'\(text)': -F arch= must come before -S"
        case -4: return "'\(text)': unknown machine type"
        case -5: return "'\(text)': no ELF mapping for this architecture"
        case -6: return "'\(text)': this machine does not support that bit width"
        case -7: return "'\(text)': this field can only be used on the exit list"
        case -8: return "'\(text)': unknown message type"
        case -9: return "'\(text)': msgtype can only be used on the exclude list"
        case -10: return "'\(text)': the rule could not be enlarged"
        case -11: return "'\(text)': the value is too long"
        case -12: return "'\(text)': only msgtype (and a few process fields) can be used on the exclude list"
        case -13: return "'\(text)': this field only takes the = and != operators"
        case -14: return "'\(text)': permissions can only contain r, w, x and a"
        case -15: return "'\(text)': unknown errno name"
        case -16: return "'\(text)': unknown file type"
        case -17: return "'\(text)': this field can only be used on the exit and entry lists"
        case -19: return "'\(text)': a key needs a watch or syscall before it"
        case -20: return "'\(text)': missing value after the operator"
        case -21: return "'\(text)': the value must be a number"
        case -22: return "'\(text)': missing field name before the operator"
        case -24: return "'\(text)': -C is missing a field name before the operator"
        case -25: return "'\(text)': -C is missing a field name after the operator"
        case -26: return "'\(text)': -C has an unknown field"
        case -27: return "'\(text)': -C cannot compare these two fields"
        case -28: return "'\(text)': too many fields in one rule (at most 64)"
        case -29: return "'\(text)': only one exe field is allowed per rule"
        case -30: return "'\(text)': exe fields only take the = and != operators"
        case -31: return "'\(text)': unknown filesystem type"
        case -32: return "'\(text)': this field can only be used on the filesystem list"
        case -38: return "'\(text)': unknown user or group name (not in this host's user database)"
        default: return "'\(text)': rejected by libaudit (error \(code))"
        }
    }
}
