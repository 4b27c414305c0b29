/// The regular expressions of Sigma's `|re` modifier, run by a Pike machine: every
/// position of the text advances every live thread at once, so a match costs at most
/// (text length × program size) steps whatever the pattern. A backtracking engine can be
/// made to run for hours by one rule (`(a+)+$`) on one crafted argv; this one cannot.
///
/// What it takes: literals, `.`, classes with ranges and `\d \w \s` (and negations),
/// anchors `^ $ \A \z \b \B`, groups (capturing, `(?:`, named), alternation, the
/// quantifiers `* + ? {n} {n,} {n,m}` (lazy or not: a yes/no match does not care), inline
/// flags `(?i) (?m) (?s)` at the start. What it refuses, by name: backreferences and
/// lookaround, which no linear-time engine can run, and programs past `maxInstructions`.
struct SigmaRegex: Sendable {
    struct Flags: Sendable, Equatable {
        var ignoreCase = false
        var multiLine = false
        var dotAll = false
    }

    /// A refusal: the construct's name and a sentence.
    struct Refusal: Error, Equatable {
        var construct: String
        var message: String
    }

    static let maxInstructions = 20_000
    static let maxRepeat = 1_000

    fileprivate enum Instruction: Sendable {
        case bytes(ByteSet)
        case split(Int, Int)
        case jump(Int)
        case assert(Assertion)
        case match
    }

    fileprivate enum Assertion: Sendable {
        case lineStart, lineEnd, textStart, textEnd, wordBoundary, notWordBoundary
    }

    private let program: [Instruction]
    /// Literals (folded), one of which every match contains: for the rule index, and a
    /// quick "no" before the machine runs. Empty when the expression has none of 3 bytes.
    let requiredLiterals: [[UInt8]]
    /// Whether the program must match at the text's start (`^` without `m`, `\A`): one
    /// start thread instead of one per position.
    private let anchored: Bool

    init(_ pattern: String, flags: Flags) throws(Refusal) {
        var parser = RegexParser(pattern: Array(pattern.utf8), flags: flags)
        let tree = try parser.parse()
        var compiler = RegexCompiler()
        try compiler.emit(tree)
        compiler.program.append(.match)
        program = compiler.program
        anchored = tree.startsAnchored
        requiredLiterals = tree.requiredLiterals.filter { $0.count >= 3 }.count == tree.requiredLiterals.count ? tree.requiredLiterals : []
    }

    /// Whether the pattern matches anywhere in `text`.
    func matches(_ text: UnsafeBufferPointer<UInt8>) -> Bool {
        if !requiredLiterals.isEmpty, !requiredLiterals.contains(where: { SigmaText.contains($0, in: text) }) { return false }
        // Four arrays of the program's size, on the stack for the usual small programs.
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 4 * program.count) { buffer in
            buffer.initialize(repeating: 0)
            var current = ThreadList(buffer, offset: 0, capacity: program.count)
            var next = ThreadList(buffer, offset: 2 * program.count, capacity: program.count)
            return run(text, &current, &next)
        }
    }

    private func run(_ text: UnsafeBufferPointer<UInt8>, _ current: inout ThreadList, _ next: inout ThreadList) -> Bool {
        var position = 0
        while true {
            if position == 0 || !anchored {
                if add(0, at: position, in: text, to: &current) { return true }
            }
            if current.count == 0 && (anchored || position >= text.count) { return false }
            if position >= text.count { return false }
            let byte = text[position]
            next.clear()
            for index in 0..<current.count {
                let pc = current.dense[index]
                if case .bytes(let set) = program[pc], set.contains(byte) {
                    if add(pc + 1, at: position + 1, in: text, to: &next) { return true }
                }
            }
            swap(&current, &next)
            position += 1
        }
    }

    /// Follows jumps, splits and assertions from `pc`; true once `match` is reached.
    private func add(_ pc: Int, at position: Int, in text: UnsafeBufferPointer<UInt8>, to list: inout ThreadList) -> Bool {
        var stack = [pc]
        while let pc = stack.popLast() {
            guard list.insert(pc) else { continue }
            switch program[pc] {
            case .match: return true
            case .jump(let target): stack.append(target)
            case .split(let first, let second):
                stack.append(second)
                stack.append(first)
            case .assert(let assertion):
                if Self.holds(assertion, at: position, in: text) { stack.append(pc + 1) }
            case .bytes: break
            }
        }
        return false
    }

    private static func holds(_ assertion: Assertion, at position: Int, in text: UnsafeBufferPointer<UInt8>) -> Bool {
        switch assertion {
        case .textStart: return position == 0
        case .textEnd: return position == text.count
        case .lineStart: return position == 0 || text[position - 1] == 0x0a
        case .lineEnd: return position == text.count || text[position] == 0x0a
        case .wordBoundary, .notWordBoundary:
            let before = position > 0 && ByteSet.word.contains(text[position - 1])
            let after = position < text.count && ByteSet.word.contains(text[position])
            return (before != after) == (assertion == .wordBoundary)
        }
    }
}

/// The program counters live at one text position, each once (a sparse set, cleared by
/// its count alone).
private struct ThreadList {
    var dense: UnsafeMutableBufferPointer<Int>
    var sparse: UnsafeMutableBufferPointer<Int>
    var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<Int>, offset: Int, capacity: Int) {
        dense = UnsafeMutableBufferPointer(rebasing: buffer[offset..<(offset + capacity)])
        sparse = UnsafeMutableBufferPointer(rebasing: buffer[(offset + capacity)..<(offset + 2 * capacity)])
    }

    mutating func clear() { count = 0 }

    /// Adds `pc`; false when it was there.
    mutating func insert(_ pc: Int) -> Bool {
        let slot = sparse[pc]
        if slot < count && dense[slot] == pc { return false }
        sparse[pc] = count
        dense[count] = pc
        count += 1
        return true
    }
}

/// A set of bytes, 256 bits.
struct ByteSet: Sendable, Equatable {
    private var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

    static func == (a: ByteSet, b: ByteSet) -> Bool { a.words == b.words }

    func contains(_ byte: UInt8) -> Bool {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: return words.0 & bit != 0
        case 1: return words.1 & bit != 0
        case 2: return words.2 & bit != 0
        default: return words.3 & bit != 0
        }
    }

    mutating func insert(_ byte: UInt8) {
        let bit = UInt64(1) << UInt64(byte & 63)
        switch byte >> 6 {
        case 0: words.0 |= bit
        case 1: words.1 |= bit
        case 2: words.2 |= bit
        default: words.3 |= bit
        }
    }

    mutating func insert(_ range: ClosedRange<UInt8>) { for byte in range { insert(byte) } }
    mutating func formUnion(_ other: ByteSet) {
        words = (words.0 | other.words.0, words.1 | other.words.1, words.2 | other.words.2, words.3 | other.words.3)
    }

    var inverted: ByteSet {
        var set = ByteSet()
        set.words = (~words.0, ~words.1, ~words.2, ~words.3)
        return set
    }

    /// Adds the other case of every ASCII letter in the set.
    var caseInsensitive: ByteSet {
        var set = self
        for byte in UInt8(ascii: "a")...UInt8(ascii: "z") where contains(byte) || contains(byte - 32) {
            set.insert(byte)
            set.insert(byte - 32)
        }
        return set
    }

    static func single(_ byte: UInt8) -> ByteSet {
        var set = ByteSet()
        set.insert(byte)
        return set
    }

    static let digit: ByteSet = { var set = ByteSet(); set.insert(UInt8(ascii: "0")...UInt8(ascii: "9")); return set }()
    static let word: ByteSet = {
        var set = digit
        set.insert(UInt8(ascii: "a")...UInt8(ascii: "z"))
        set.insert(UInt8(ascii: "A")...UInt8(ascii: "Z"))
        set.insert(UInt8(ascii: "_"))
        return set
    }()
    static let space: ByteSet = { var set = ByteSet(); for byte in [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d] as [UInt8] { set.insert(byte) }; return set }()
    static let all = ByteSet().inverted
    static let notNewline: ByteSet = { var set = all; set.remove(0x0a); return set }()

    private mutating func remove(_ byte: UInt8) {
        let bit = ~(UInt64(1) << UInt64(byte & 63))
        switch byte >> 6 {
        case 0: words.0 &= bit
        case 1: words.1 &= bit
        case 2: words.2 &= bit
        default: words.3 &= bit
        }
    }
}

/// A parsed regular expression.
private indirect enum RegexNode {
    case bytes(ByteSet)
    case sequence([RegexNode])
    case alternation([RegexNode])
    case repeated(RegexNode, min: Int, max: Int?)
    case assertion(SigmaRegex.Assertion)

    /// Literals (folded), one of which every match contains; empty when none is known.
    /// A sequence gives its longest run of one-byte (or one-letter, either case) steps, or
    /// the literals of one of its alternations, whichever has the longer shortest literal;
    /// an alternation gives its branches' literals when every branch has some.
    var requiredLiterals: [[UInt8]] {
        switch self {
        case .alternation(let branches):
            var all: [[UInt8]] = []
            for branch in branches {
                let literals = branch.requiredLiterals
                if literals.isEmpty { return [] }
                all += literals
            }
            return all
        case .bytes, .sequence:
            let items: [RegexNode]
            if case .sequence(let sequence) = self { items = sequence } else { items = [self] }
            var best: [[UInt8]] = []
            func shortest(_ literals: [[UInt8]]) -> Int { literals.map(\.count).min() ?? 0 }
            var run: [UInt8] = []
            for item in items {
                if case .bytes(let set) = item, let byte = set.foldedLetter {
                    run.append(byte)
                    if run.count > shortest(best) { best = [run] }
                } else {
                    run = []
                    if case .alternation = item {
                        let literals = item.requiredLiterals
                        if shortest(literals) > shortest(best) { best = literals }
                    } else if case .repeated(let inner, let low, _) = item, low >= 1 {
                        let literals = inner.requiredLiterals
                        if shortest(literals) > shortest(best) { best = literals }
                    }
                }
            }
            return best
        default:
            return []
        }
    }

    var startsAnchored: Bool {
        switch self {
        case .assertion(.textStart): true
        case .sequence(let items): items.first?.startsAnchored ?? false
        default: false
        }
    }
}

private struct RegexParser {
    let pattern: [UInt8]
    var flags: SigmaRegex.Flags
    var position = 0
    var depth = 0

    init(pattern: [UInt8], flags: SigmaRegex.Flags) {
        self.pattern = pattern
        self.flags = flags
    }

    typealias Refusal = SigmaRegex.Refusal

    func refuse(_ construct: String, _ message: String) -> Refusal {
        Refusal(construct: construct, message: "regular expression, offset \(position): \(message)")
    }

    mutating func parse() throws(Refusal) -> RegexNode {
        try leadingFlags()
        let node = try alternation()
        if position < pattern.count { throw refuse("regex syntax", "unbalanced `)`") }
        return node
    }

    /// `(?i)`, `(?ims)` at the very start set the flags for the whole expression.
    private mutating func leadingFlags() throws(Refusal) {
        while position + 2 < pattern.count, pattern[position] == UInt8(ascii: "("), pattern[position + 1] == UInt8(ascii: "?") {
            var cursor = position + 2
            var parsed = flags
            while cursor < pattern.count, pattern[cursor] != UInt8(ascii: ")") {
                switch pattern[cursor] {
                case UInt8(ascii: "i"): parsed.ignoreCase = true
                case UInt8(ascii: "m"): parsed.multiLine = true
                case UInt8(ascii: "s"): parsed.dotAll = true
                default: return
                }
                cursor += 1
            }
            guard cursor < pattern.count else { return }
            flags = parsed
            position = cursor + 1
        }
    }

    private mutating func alternation() throws(Refusal) -> RegexNode {
        depth += 1
        defer { depth -= 1 }
        guard depth <= 100 else { throw refuse("regex nesting", "groups nested deeper than 100") }
        var branches = [try sequence()]
        while position < pattern.count, pattern[position] == UInt8(ascii: "|") {
            position += 1
            branches.append(try sequence())
        }
        return branches.count == 1 ? branches[0] : .alternation(branches)
    }

    private mutating func sequence() throws(Refusal) -> RegexNode {
        var items: [RegexNode] = []
        while position < pattern.count, pattern[position] != UInt8(ascii: "|"), pattern[position] != UInt8(ascii: ")") {
            var atom = try self.atom()
            atom = try quantified(atom)
            items.append(atom)
        }
        return items.count == 1 ? items[0] : .sequence(items)
    }

    private mutating func quantified(_ atom: RegexNode) throws(Refusal) -> RegexNode {
        guard position < pattern.count else { return atom }
        var node = atom
        let byte = pattern[position]
        switch byte {
        case UInt8(ascii: "*"): node = .repeated(atom, min: 0, max: nil)
        case UInt8(ascii: "+"): node = .repeated(atom, min: 1, max: nil)
        case UInt8(ascii: "?"): node = .repeated(atom, min: 0, max: 1)
        case UInt8(ascii: "{"):
            guard let (low, high, end) = counted(from: position) else { return .sequence([atom, try literal()]) }
            guard low <= SigmaRegex.maxRepeat, (high ?? low) <= SigmaRegex.maxRepeat, low <= (high ?? low) else {
                throw refuse("regex repetition", "a count above \(SigmaRegex.maxRepeat) or a range upside down")
            }
            position = end
            node = .repeated(atom, min: low, max: high)
            position -= 1
        default: return atom
        }
        if case .assertion = atom { throw refuse("regex syntax", "a quantifier after an anchor") }
        position += 1
        if position < pattern.count, pattern[position] == UInt8(ascii: "?") { position += 1 }  // lazy: the same yes or no
        if position < pattern.count, pattern[position] == UInt8(ascii: "+") {
            throw refuse("regex possessive quantifier", "possessive quantifiers (`*+`, `++`) are not supported")
        }
        return try quantified(node)
    }

    /// `{n}`, `{n,}`, `{n,m}` at `start`: the bounds and the offset after `}`; nil when
    /// the brace is a literal.
    private func counted(from start: Int) -> (Int, Int?, Int)? {
        var cursor = start + 1
        func number() -> Int? {
            var value: Int?
            while cursor < pattern.count, pattern[cursor] >= 48, pattern[cursor] <= 57 {
                value = min((value ?? 0) * 10 + Int(pattern[cursor] - 48), 1_000_000)
                cursor += 1
            }
            return value
        }
        guard let low = number() else { return nil }
        var high: Int? = low
        if cursor < pattern.count, pattern[cursor] == UInt8(ascii: ",") {
            cursor += 1
            high = number()
        }
        guard cursor < pattern.count, pattern[cursor] == UInt8(ascii: "}") else { return nil }
        return (low, high, cursor + 1)
    }

    private mutating func atom() throws(Refusal) -> RegexNode {
        let byte = pattern[position]
        switch byte {
        case UInt8(ascii: "("): return try group()
        case UInt8(ascii: "["): return try characterClass()
        case UInt8(ascii: "."):
            position += 1
            return .bytes(flags.dotAll ? .all : .notNewline)
        case UInt8(ascii: "^"):
            position += 1
            return .assertion(flags.multiLine ? .lineStart : .textStart)
        case UInt8(ascii: "$"):
            position += 1
            return .assertion(flags.multiLine ? .lineEnd : .textEnd)
        case UInt8(ascii: "\\"): return try escape()
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "?"):
            throw refuse("regex syntax", "a quantifier with nothing before it")
        default: return try literal()
        }
    }

    private mutating func literal() throws(Refusal) -> RegexNode {
        let byte = pattern[position]
        position += 1
        return .bytes(flags.ignoreCase ? ByteSet.single(byte).caseInsensitive : .single(byte))
    }

    private mutating func group() throws(Refusal) -> RegexNode {
        position += 1
        if position < pattern.count, pattern[position] == UInt8(ascii: "?") {
            let rest = pattern[(position + 1)...].prefix(3)
            if rest.starts(with: Array("=".utf8)) || rest.starts(with: Array("!".utf8)) {
                throw refuse("regex lookahead", "lookahead (`(?=`, `(?!`) needs backtracking")
            }
            if rest.starts(with: Array("<=".utf8)) || rest.starts(with: Array("<!".utf8)) {
                throw refuse("regex lookbehind", "lookbehind (`(?<=`, `(?<!`) needs backtracking")
            }
            if rest.starts(with: Array(":".utf8)) {
                position += 2
            } else if rest.starts(with: Array("P<".utf8)) || rest.starts(with: Array("<".utf8)) {
                guard let close = pattern[position...].firstIndex(of: UInt8(ascii: ">")) else { throw refuse("regex syntax", "an unclosed group name") }
                position = close + 1
            } else if rest.starts(with: Array("P=".utf8)) {
                throw refuse("regex backreference", "backreferences need backtracking")
            } else {
                throw refuse("regex group flags", "flags (`(?i)`, `(?m)`, `(?s)`) are taken only at the start of the expression")
            }
        }
        let inner = try alternation()
        guard position < pattern.count, pattern[position] == UInt8(ascii: ")") else { throw refuse("regex syntax", "an unclosed `(`") }
        position += 1
        return inner
    }

    private mutating func escape() throws(Refusal) -> RegexNode {
        guard position + 1 < pattern.count else { throw refuse("regex syntax", "a `\\` at the end") }
        let byte = pattern[position + 1]
        position += 2
        switch byte {
        case UInt8(ascii: "A"): return .assertion(.textStart)
        case UInt8(ascii: "z"), UInt8(ascii: "Z"): return .assertion(.textEnd)
        case UInt8(ascii: "b"): return .assertion(.wordBoundary)
        case UInt8(ascii: "B"): return .assertion(.notWordBoundary)
        case UInt8(ascii: "1")...UInt8(ascii: "9"), UInt8(ascii: "k"):
            throw refuse("regex backreference", "backreferences need backtracking")
        default:
            position -= 2
            let set = try classEscape()
            return .bytes(flags.ignoreCase ? set.caseInsensitive : set)
        }
    }

    /// An escape that stands for bytes (in or out of a class), `position` at the `\`.
    private mutating func classEscape() throws(Refusal) -> ByteSet {
        guard position + 1 < pattern.count else { throw refuse("regex syntax", "a `\\` at the end") }
        let byte = pattern[position + 1]
        position += 2
        switch byte {
        case UInt8(ascii: "d"): return .digit
        case UInt8(ascii: "D"): return ByteSet.digit.inverted
        case UInt8(ascii: "w"): return .word
        case UInt8(ascii: "W"): return ByteSet.word.inverted
        case UInt8(ascii: "s"): return .space
        case UInt8(ascii: "S"): return ByteSet.space.inverted
        case UInt8(ascii: "t"): return .single(0x09)
        case UInt8(ascii: "n"): return .single(0x0a)
        case UInt8(ascii: "r"): return .single(0x0d)
        case UInt8(ascii: "f"): return .single(0x0c)
        case UInt8(ascii: "v"): return .single(0x0b)
        case UInt8(ascii: "0"): return .single(0)
        case UInt8(ascii: "x"):
            guard position + 2 <= pattern.count, let value = UInt8(String(decoding: pattern[position..<(position + 2)], as: UTF8.self), radix: 16) else {
                throw refuse("regex syntax", "`\\x` wants two hex digits")
            }
            position += 2
            return .single(value)
        case UInt8(ascii: "p"), UInt8(ascii: "P"):
            throw refuse("regex unicode class", "Unicode property classes (`\\p{…}`) are not supported")
        default:
            if (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) {
                throw refuse("regex escape", "the escape `\\\(String(decoding: [byte], as: UTF8.self))` is not supported")
            }
            return .single(byte)
        }
    }

    private mutating func characterClass() throws(Refusal) -> RegexNode {
        position += 1
        var negated = false
        if position < pattern.count, pattern[position] == UInt8(ascii: "^") {
            negated = true
            position += 1
        }
        var set = ByteSet()
        var first = true
        while true {
            guard position < pattern.count else { throw refuse("regex syntax", "an unclosed `[`") }
            let byte = pattern[position]
            if byte == UInt8(ascii: "]") && !first { position += 1; break }
            first = false
            if byte == UInt8(ascii: "[") && position + 1 < pattern.count && pattern[position + 1] == UInt8(ascii: ":") {
                throw refuse("regex posix class", "POSIX classes (`[:alpha:]`) are not supported")
            }
            var low: UInt8
            if byte == UInt8(ascii: "\\") {
                let escaped = try classEscape()
                guard let single = escaped.singleByte else { set.formUnion(escaped); continue }
                low = single
            } else {
                low = byte
                position += 1
            }
            if low >= 0x80 { throw refuse("regex non-ascii class", "a class with a non-ASCII character") }
            if position + 1 < pattern.count, pattern[position] == UInt8(ascii: "-"), pattern[position + 1] != UInt8(ascii: "]") {
                position += 1
                var high = pattern[position]
                if high == UInt8(ascii: "\\") {
                    guard let single = try classEscape().singleByte else { throw refuse("regex syntax", "a range ending in a class") }
                    high = single
                } else {
                    position += 1
                }
                guard low <= high else { throw refuse("regex syntax", "a range upside down") }
                set.insert(low...high)
            } else {
                set.insert(low)
            }
        }
        if flags.ignoreCase { set = set.caseInsensitive }
        return .bytes(negated ? set.inverted : set)
    }
}

extension ByteSet {
    /// The byte folded, when the set holds one byte, or one letter in both cases.
    var foldedLetter: UInt8? {
        if let single = singleByte { return SigmaText.fold(single) }
        var found: [UInt8] = []
        for byte in 0...255 where contains(UInt8(byte)) {
            found.append(UInt8(byte))
            if found.count > 2 { return nil }
        }
        guard found.count == 2, SigmaText.fold(found[0]) == SigmaText.fold(found[1]) else { return nil }
        return SigmaText.fold(found[0])
    }

    /// The byte, when the set holds exactly one.
    var singleByte: UInt8? {
        var found: UInt8?
        for byte in 0...255 where contains(UInt8(byte)) {
            if found != nil { return nil }
            found = UInt8(byte)
        }
        return found
    }
}

private struct RegexCompiler {
    var program: [SigmaRegex.Instruction] = []

    mutating func emit(_ node: RegexNode) throws(SigmaRegex.Refusal) {
        guard program.count <= SigmaRegex.maxInstructions else {
            throw SigmaRegex.Refusal(construct: "regex size", message: "regular expression: more than \(SigmaRegex.maxInstructions) steps once its counts are expanded")
        }
        switch node {
        case .bytes(let set): program.append(.bytes(set))
        case .assertion(let assertion): program.append(.assert(assertion))
        case .sequence(let items): for item in items { try emit(item) }
        case .alternation(let branches):
            var jumps: [Int] = []
            for (index, branch) in branches.enumerated() {
                if index < branches.count - 1 {
                    let split = program.count
                    program.append(.split(split + 1, 0))
                    try emit(branch)
                    jumps.append(program.count)
                    program.append(.jump(0))
                    program[split] = .split(split + 1, program.count)
                } else {
                    try emit(branch)
                }
            }
            for jump in jumps { program[jump] = .jump(program.count) }
        case .repeated(let inner, let low, let high):
            for _ in 0..<low { try emit(inner) }
            if let high {
                var splits: [Int] = []
                for _ in low..<high {
                    splits.append(program.count)
                    program.append(.split(program.count + 1, 0))
                    try emit(inner)
                }
                for split in splits { program[split] = .split(split + 1, program.count) }
            } else {
                let split = program.count
                program.append(.split(split + 1, 0))
                try emit(inner)
                program.append(.jump(split))
                program[split] = .split(split + 1, program.count)
            }
        }
    }
}
