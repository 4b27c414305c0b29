/// ASCII case folding on bytes: Sigma compares case-insensitively unless `|cased`, and
/// the fields nodeaudit matches are bytes (argv, paths) that need not be UTF-8.
enum SigmaText {
    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }

    static func folded(_ bytes: some Sequence<UInt8>) -> [UInt8] { bytes.map(fold) }

    /// Whether `pattern` occurs in `text` at `offset` (the pattern already folded when
    /// `folding`).
    @inline(__always)
    static func matches(_ pattern: [UInt8], in text: UnsafeBufferPointer<UInt8>, at offset: Int, folding: Bool) -> Bool {
        guard offset + pattern.count <= text.count else { return false }
        if folding {
            for index in 0..<pattern.count where fold(text[offset + index]) != pattern[index] { return false }
        } else {
            for index in 0..<pattern.count where text[offset + index] != pattern[index] { return false }
        }
        return true
    }

    /// The first offset at or after `start` where `pattern` occurs, nil when none.
    static func find(_ pattern: [UInt8], in text: UnsafeBufferPointer<UInt8>, from start: Int, folding: Bool) -> Int? {
        guard !pattern.isEmpty else { return start <= text.count ? start : nil }
        guard text.count >= pattern.count else { return nil }
        let first = pattern[0]
        var offset = start
        let last = text.count - pattern.count
        while offset <= last {
            let byte = folding ? fold(text[offset]) : text[offset]
            if byte == first && matches(pattern, in: text, at: offset, folding: folding) { return offset }
            offset += 1
        }
        return nil
    }
}
