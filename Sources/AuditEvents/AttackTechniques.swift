import AuditRecords

/// MITRE ATT&CK technique ids named in rule keys, so that a SIEM can group events by
/// technique without a table of every key.
///
/// The public rule sets operators deploy name techniques in their keys in three ways:
/// the id alone (`T1059`), with a sub-technique (`T1059.004`), or followed by words
/// (`T1078_Valid_Accounts`). An id counts when it starts the key or follows a character
/// that is neither a letter nor a digit (`mitre-T1059`), and when no digit follows it:
/// `CVE-2021-T12345` and `aT1059` are not technique ids.
public enum AttackTechniques {
    /// Calls `found` with where each technique id in `key` is, in order, its sub-technique
    /// included. (Bytes in place, not generic: it runs for every event with a key.)
    public static func forEach(in key: UnsafeBufferPointer<UInt8>, _ found: (Range<Int>) -> Void) {
        var index = 0
        while index < key.count {
            if key[index] == UInt8(ascii: "T"), index == 0 || !isAlphanumeric(key[index - 1]),
               let end = idEnd(in: key, from: index) {
                found(index..<end)
                index = end
            } else {
                index += 1
            }
        }
    }

    /// Where in `text` the technique ids of the rule keys `keys` are, each id once, in the
    /// order they first appear; empty (and no allocation) when the keys name none.
    public static func ids(of keys: [TextRange], in text: UnsafeBufferPointer<UInt8>) -> [Range<Int>] {
        var ids: [Range<Int>] = []
        for key in keys {
            forEach(in: UnsafeBufferPointer(rebasing: text[key.range])) { found in
                let id = (key.range.lowerBound + found.lowerBound)..<(key.range.lowerBound + found.upperBound)
                if !ids.contains(where: { text[$0].elementsEqual(text[id]) }) { ids.append(id) }
            }
        }
        return ids
    }

    /// Where the id starting with the `T` at `start` ends: after `T` and four digits, and
    /// after `.` and three more when they follow; nil when it is no id.
    private static func idEnd(in key: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let afterNumber = digitsEnd(in: key, from: start + 1, count: 4) else { return nil }
        if afterNumber < key.count, key[afterNumber] == UInt8(ascii: "."),
           let afterSub = digitsEnd(in: key, from: afterNumber + 1, count: 3) {
            return afterSub < key.count && isDigit(key[afterSub]) ? nil : afterSub
        }
        return afterNumber < key.count && isDigit(key[afterNumber]) ? nil : afterNumber
    }

    /// The index after exactly `count` digits from `start`; nil when fewer follow.
    private static func digitsEnd(in key: UnsafeBufferPointer<UInt8>, from start: Int, count: Int) -> Int? {
        guard start + count <= key.count else { return nil }
        for index in start..<start + count where !isDigit(key[index]) { return nil }
        return start + count
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "z"))
    }
}
