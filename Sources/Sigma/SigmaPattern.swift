/// A Sigma string value with its wildcards (`*` any run, `?` one byte; `\*`, `\?` and
/// `\\` are the characters themselves), compiled to the cheapest test that decides it:
/// equality, prefix, suffix, substring, or pieces found left to right.
struct SigmaPattern: Sendable, Equatable {
    /// Fixed-length pieces between `*`s; in a piece, nil is `?`.
    private(set) var pieces: [[UInt8?]]
    /// Whether the value starts or ends with `*`.
    private(set) var openStart: Bool
    private(set) var openEnd: Bool
    let cased: Bool

    /// Parses a rule's value (after its modifiers' wildcards were added); folded unless `cased`.
    init(_ value: [UInt8], cased: Bool) {
        self.cased = cased
        // Segments between unescaped `*`s; empty ones at the ends mean an open end.
        var segments: [[UInt8?]] = [[]]
        var index = 0
        while index < value.count {
            var byte: UInt8? = value[index]
            if value[index] == UInt8(ascii: "\\"), index + 1 < value.count,
               [UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "\\")].contains(value[index + 1]) {
                byte = value[index + 1]
                index += 1
            } else if value[index] == UInt8(ascii: "*") {
                segments.append([])
                index += 1
                continue
            } else if value[index] == UInt8(ascii: "?") {
                byte = nil
            }
            segments[segments.count - 1].append(byte.map { cased ? $0 : SigmaText.fold($0) })
            index += 1
        }
        openStart = segments.count > 1 && segments[0].isEmpty
        openEnd = segments.count > 1 && segments[segments.count - 1].isEmpty
        let kept = segments.filter { !$0.isEmpty }
        pieces = kept.isEmpty ? [[]] : kept
    }

    /// The longest literal run (no wildcard) every match contains, folded.
    var requiredLiteral: [UInt8] {
        var best: [UInt8] = []
        for piece in pieces {
            var run: [UInt8] = []
            for byte in piece + [nil] {
                if let byte {
                    run.append(SigmaText.fold(byte))
                } else {
                    if run.count > best.count { best = run }
                    run = []
                }
            }
        }
        return best
    }

    /// The whole value, folded, when the pattern is one without wildcards that ignores case.
    var exactFolded: [UInt8]? {
        guard !cased, !openStart, !openEnd, pieces.count == 1 else { return nil }
        let piece = pieces[0].compactMap { $0 }
        return piece.count == pieces[0].count ? piece : nil
    }

    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        let folding = !cased
        if pieces.count == 1 {
            let piece = pieces[0]
            switch (openStart, openEnd) {
            case (false, false): return piece.count == text.count && Self.piece(piece, matches: text, at: 0, folding: folding)
            case (false, true): return Self.piece(piece, matches: text, at: 0, folding: folding)
            case (true, false): return text.count >= piece.count && Self.piece(piece, matches: text, at: text.count - piece.count, folding: folding)
            case (true, true): return Self.find(piece, in: text, from: 0, folding: folding) != nil
            }
        }
        // Pieces in order, each at its leftmost place after the one before: leftmost is
        // never worse for the pieces after it. The first and last are anchored unless open.
        var offset = 0
        var first = 0
        var last = pieces.count
        if !openStart {
            guard Self.piece(pieces[0], matches: text, at: 0, folding: folding) else { return false }
            offset = pieces[0].count
            first = 1
        }
        var end = text.count
        if !openEnd {
            let tail = pieces[pieces.count - 1]
            guard text.count - tail.count >= offset, Self.piece(tail, matches: text, at: text.count - tail.count, folding: folding) else { return false }
            end = text.count - tail.count
            last -= 1
        }
        guard first <= last else { return offset <= end }
        for index in first..<last {
            let piece = pieces[index]
            guard let found = Self.find(piece, in: UnsafeBufferPointer(rebasing: text[..<end]), from: offset, folding: folding) else { return false }
            offset = found + piece.count
        }
        return offset <= end
    }

    private static func piece(_ piece: [UInt8?], matches text: UnsafeBufferPointer<UInt8>, at offset: Int, folding: Bool) -> Bool {
        guard offset >= 0, offset + piece.count <= text.count else { return false }
        for (index, expected) in piece.enumerated() {
            guard let expected else { continue }
            let byte = folding ? SigmaText.fold(text[offset + index]) : text[offset + index]
            if byte != expected { return false }
        }
        return true
    }

    private static func find(_ piece: [UInt8?], in text: UnsafeBufferPointer<UInt8>, from start: Int, folding: Bool) -> Int? {
        guard text.count >= piece.count else { return nil }
        var offset = start
        while offset + piece.count <= text.count {
            if Self.piece(piece, matches: text, at: offset, folding: folding) { return offset }
            offset += 1
        }
        return nil
    }
}
