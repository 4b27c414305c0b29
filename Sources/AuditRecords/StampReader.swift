/// Reads the `SEC.MS:SERIAL)` of record stamps, remembering the text of the last one read.
///
/// The records of an event, and the EOE that ends it, come one after another with the
/// same stamp, so most stamps are recognised by comparing their bytes with the last one's
/// (four word loads) instead of reading their twenty digits again (callgrind: 285
/// instructions a stamp, three stamps a flood event). A stamp recognised is the stamp
/// remembered: the texts are equal up to and including the `)`, which no digit is.
///
/// One reader per stream of records, used by the thread that parses them.
public struct StampReader {
    /// The last stamp's text, from its first digit to its `)`: the first two and the last
    /// two of its eight-byte words (the middle ones overlap for texts under 32 bytes).
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// The remembered text's length; 0 when there is none (texts of 16 to 32 bytes are
    /// kept: every stamp of this century's clocks has 16 or more).
    private var length = 0
    private var stamp = AuditStamp(seconds: 0, milliseconds: 0, serial: 0)

    private static let keptLengths = 16...32

    public init() {}

    /// The stamp whose text starts at `start` (after `audit(`) and the index after its `)`,
    /// when it is the one remembered.
    @inline(__always)
    func recognise(_ b: UnsafeBufferPointer<UInt8>, at start: Int) -> (AuditStamp, Int)? {
        let length = self.length
        guard length > 0, start + length <= b.count, let base = b.baseAddress else { return nil }
        let text = UnsafeRawPointer(base + start)
        guard text.loadUnaligned(as: UInt64.self) == words.0,
              text.loadUnaligned(fromByteOffset: 8, as: UInt64.self) == words.1,
              text.loadUnaligned(fromByteOffset: length - 16, as: UInt64.self) == words.2,
              text.loadUnaligned(fromByteOffset: length - 8, as: UInt64.self) == words.3
        else { return nil }
        return (stamp, start + length)
    }

    /// Remembers `stamp`, whose text is `text` (its digits and its `)`).
    @inline(__always)
    mutating func remember(_ stamp: AuditStamp, text: UnsafeBufferPointer<UInt8>) {
        guard Self.keptLengths.contains(text.count), let base = text.baseAddress else {
            length = 0
            return
        }
        let raw = UnsafeRawPointer(base)
        words = (raw.loadUnaligned(as: UInt64.self), raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: text.count - 16, as: UInt64.self),
                 raw.loadUnaligned(fromByteOffset: text.count - 8, as: UInt64.self))
        length = text.count
        self.stamp = stamp
    }
}
