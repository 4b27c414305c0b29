/// ASCII case folding on bytes: Sigma compares case-insensitively unless `|cased`, and
/// the fields nodeaudit matches are bytes (argv, paths) that need not be UTF-8.
enum SigmaText {
    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }

    /// Whether the folded `literal` occurs in `text`, ignoring case.
    static func contains(_ literal: [UInt8], in text: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let first = literal.first, text.count >= literal.count else { return literal.isEmpty }
        var offset = 0
        let last = text.count - literal.count
        search: while offset <= last {
            if fold(text[offset]) == first {
                for index in 1..<literal.count where fold(text[offset + index]) != literal[index] {
                    offset += 1
                    continue search
                }
                return true
            }
            offset += 1
        }
        return false
    }
}
