#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where one value of an event lies in the event's `EventText`.
public struct TextRange: Sendable, Equatable, Hashable {
    public var start: UInt32
    public var end: UInt32

    @inlinable
    public init(start: Int, end: Int) {
        self.start = UInt32(truncatingIfNeeded: start)
        self.end = UInt32(truncatingIfNeeded: end)
    }

    public var count: Int { Int(end - start) }
    @inlinable
    public var range: Range<Int> { Int(start)..<Int(end) }
}

/// The decoded values of one event (exe, paths, argv, user names, …), back to back in one
/// buffer that the event owns.
///
/// The event model refers to its values by `TextRange` instead of holding a slice per
/// value: a slice is a counted reference, and copying and freeing events with dozens of
/// them took a third of the offline parse time (perf, Scripts/bench-parse). With one buffer
/// an event's values are copied in once and freed in one go.
public struct EventText: Sendable {
    /// The values, then room for more: the first `count` bytes are the text. Kept at its
    /// whole length, so that appending (some twenty times an event) copies into room
    /// already there, without `Array`'s growth bookkeeping on every call.
    private var storage: [UInt8]
    /// The bytes of the text so far.
    public private(set) var count = 0

    public init(capacity: Int = 0) {
        storage = [UInt8](repeating: 0, count: capacity)
    }

    /// Empties the text, keeping its room for the next event's values.
    public mutating func removeAll() { count = 0 }

    /// The bytes of `range`; for enrichment, tests and messages. Encoders read the whole
    /// text once, in place (`withBytes`).
    public subscript(range: TextRange) -> Bytes { storage[range.range] }

    /// Calls `read` with the text, in place.
    public func withBytes<R>(_ read: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try storage.withUnsafeBufferPointer { try read(UnsafeBufferPointer(rebasing: $0[..<count])) }
    }

    /// Appends bytes as they are.
    @discardableResult
    public mutating func append(_ value: UnsafeBufferPointer<UInt8>) -> TextRange {
        let start = count
        guard let source = value.baseAddress, !value.isEmpty else { return TextRange(start: start, end: start) }
        let end = start + value.count
        if end > storage.count { storage += repeatElement(0, count: max(end, 2 * storage.count, 256) - storage.count) }
        storage.withUnsafeMutableBufferPointer { room in
            (room.baseAddress! + start).copyBytes(from: source, count: value.count)
        }
        count = end
        return TextRange(start: start, end: end)
    }

    @discardableResult
    public mutating func append(_ value: Bytes) -> TextRange {
        value.withUnsafeBufferPointer { append($0) }
    }

    /// Appends a user-controlled string decoded from the kernel's quoted or hex form
    /// (`UntrustedString`); nil for `(null)`. A value in neither form is kept as written
    /// and `wasMalformed` says so.
    public mutating func appendDecoded(_ raw: UnsafeBufferPointer<UInt8>) -> (range: TextRange?, wasMalformed: Bool) {
        switch UntrustedString.form(raw) {
        case .quoted(let inner, let isTerminated):
            return (append(UnsafeBufferPointer(rebasing: raw[inner])), !isTerminated)
        case .absent:
            return (nil, false)
        case .unquoted:
            if raw.isEmpty || raw.count % 2 != 0 { return (append(raw), !raw.isEmpty) }
            // Decoded aside (on the stack for a title or a path) and copied in at once:
            // growing the text by zeros first and decoding into it cost twice as much.
            let decoded = withUnsafeTemporaryAllocation(of: UInt8.self, capacity: raw.count / 2) { scratch in
                UntrustedString.hex(raw, into: scratch) ? append(UnsafeBufferPointer(scratch)) : nil
            }
            if let decoded { return (decoded, false) }
            return (append(raw), true)
        }
    }

    /// The parts of `range` between `separator` bytes (proctitle's NULs, the 0x01 between
    /// several rule keys), one trailing separator dropped, appended to `parts` (no array
    /// of their own).
    public func split(_ range: TextRange, separator: UInt8, appendingTo parts: inout [TextRange]) {
        withBytes { text in
            guard let base = text.baseAddress else { return }
            var start = range.range.lowerBound
            let end = range.range.upperBound
            // memchr finds each separator.
            while start < end, let found = memchr(base + start, Int32(separator), end - start) {
                let index = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                parts.append(TextRange(start: start, end: index))
                start = index + 1
            }
            if start < end { parts.append(TextRange(start: start, end: end)) }
        }
    }
}
