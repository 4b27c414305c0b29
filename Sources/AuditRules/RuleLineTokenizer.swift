/// Splits a rule line into words as auditctl does: on blanks, with `\ ` for a blank inside
/// a word and `\\` for a backslash. A line whose first word starts with `#` is a comment.
///
/// Works on Unicode scalars, not characters: a combining mark after a blank or a
/// backslash must not glue them into one character the way Swift's graphemes would;
/// auditctl and libaudit see bytes.
package enum RuleLineTokenizer {
    package static func words(_ line: some StringProtocol) -> [String] {
        var words: [String] = []
        var current = String.UnicodeScalarView()
        var hasWord = false
        var escaping = false
        for scalar in line.unicodeScalars {
            if escaping {
                if !needsEscape(scalar) { current.append("\\") }
                current.append(scalar)
                escaping = false
                hasWord = true
                continue
            }
            if scalar == "\\" {
                escaping = true
            } else if isBlank(scalar) {
                if hasWord { words.append(String(current)) }
                current = String.UnicodeScalarView()
                hasWord = false
            } else {
                current.append(scalar)
                hasWord = true
            }
        }
        if escaping { current.append("\\") }
        if hasWord || escaping { words.append(String(current)) }
        return words
    }

    static func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" || scalar == "\r" }

    /// The scalars that end a word, and the backslash itself.
    static func needsEscape(_ scalar: Unicode.Scalar) -> Bool { isBlank(scalar) || scalar == "\\" }

    /// A word as a rule file must spell it to read back whole: blanks and backslashes escaped.
    package static func escaped(_ word: String) -> String {
        guard word.unicodeScalars.contains(where: needsEscape) else { return word }
        var spelled = String.UnicodeScalarView()
        for scalar in word.unicodeScalars {
            if needsEscape(scalar) { spelled.append("\\") }
            spelled.append(scalar)
        }
        return String(spelled)
    }
}
