/// Splits a rule line into words as auditctl does: on blanks, with `\ ` for a space
/// inside a word and `\\` for a backslash. A line whose first word starts with `#` is a
/// comment.
public enum RuleLineTokenizer {
    public static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var hasWord = false
        var escaping = false
        for character in line {
            if escaping {
                if character == " " || character == "\\" {
                    current.append(character)
                } else {
                    current.append("\\")
                    current.append(character)
                }
                escaping = false
                hasWord = true
                continue
            }
            switch character {
            case "\\":
                escaping = true
            case " ", "\t", "\r":
                if hasWord { words.append(current) }
                current = ""
                hasWord = false
            default:
                current.append(character)
                hasWord = true
            }
        }
        if escaping { current.append("\\") }
        if hasWord || escaping { words.append(current) }
        return words
    }

    /// A word as a rule file must spell it to read back whole: blanks and backslashes escaped.
    public static func escaped(_ word: String) -> String {
        guard word.contains(where: { $0 == " " || $0 == "\\" }) else { return word }
        var spelled = ""
        for character in word {
            if character == " " || character == "\\" { spelled.append("\\") }
            spelled.append(character)
        }
        return spelled
    }
}
