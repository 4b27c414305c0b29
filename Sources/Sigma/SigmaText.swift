/// ASCII case folding on bytes: Sigma compares case-insensitively unless `|cased`, and
/// the fields nodeaudit matches are bytes (argv, paths) that need not be UTF-8.
enum SigmaText {
    @inline(__always)
    static func fold(_ byte: UInt8) -> UInt8 {
        byte &- 65 < 26 ? byte | 0x20 : byte
    }

    static func folded(_ bytes: some Sequence<UInt8>) -> [UInt8] { bytes.map(fold) }
}
