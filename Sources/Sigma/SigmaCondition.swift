/// A detection's `condition`, parsed: search identifiers joined by `and`, `or`, `not`,
/// parentheses, and `1 of`/`all of` over identifier patterns or `them`. Precedence as the
/// specification has it: `not`, then `and`, then `or`.
indirect enum SigmaCondition: Sendable {
    case search(Int)
    case and([SigmaCondition])
    case or([SigmaCondition])
    case not(SigmaCondition)

    func evaluate(_ searches: [SigmaSearch], _ event: some SigmaEvent) -> Bool {
        switch self {
        case .search(let index): searches[index].test(event)
        case .and(let items): items.allSatisfy { $0.evaluate(searches, event) }
        case .or(let items): items.contains { $0.evaluate(searches, event) }
        case .not(let inner): !inner.evaluate(searches, event)
        }
    }

    /// The searches an event must pass for the condition to hold (any of each returned
    /// set; empty when none is required): what the rule index files the rule under.
    var requiredSearches: [Int] {
        switch self {
        case .search(let index): [index]
        case .and(let items): items.lazy.map(\.requiredSearches).first { !$0.isEmpty } ?? []
        case .or(let items):
            items.contains { $0.requiredSearches.isEmpty } ? [] : items.flatMap(\.requiredSearches)
        case .not: []
        }
    }
}

/// Parses a condition against the detection's identifiers (in file order).
struct SigmaConditionParser {
    /// A hostile rule must not exhaust the stack.
    static let maxDepth = 64
    static let maxTokens = 4_096

    struct Refusal: Error {
        var construct: String
        var message: String
    }

    private enum Token: Equatable {
        case word(String)
        case open, close
    }

    private var tokens: [Token] = []
    private var position = 0
    private var depth = 0
    private let identifiers: [String]

    init(_ text: String, identifiers: [String]) throws(Refusal) {
        self.identifiers = identifiers
        var current = ""
        for character in text {
            if character == "(" || character == ")" || character.isWhitespace {
                if !current.isEmpty { tokens.append(.word(current)) }
                current = ""
                if character == "(" { tokens.append(.open) }
                if character == ")" { tokens.append(.close) }
            } else if character == "|" {
                throw Refusal(construct: "condition aggregation", message: "`|` aggregations (count() by …) are Sigma 1; use a correlation rule")
            } else {
                current.append(character)
            }
            guard tokens.count <= Self.maxTokens else {
                throw Refusal(construct: "condition size", message: "the condition has more than \(Self.maxTokens) tokens")
            }
        }
        if !current.isEmpty { tokens.append(.word(current)) }
    }

    mutating func parse() throws(Refusal) -> SigmaCondition {
        guard !tokens.isEmpty else { throw Refusal(construct: "condition syntax", message: "the condition is empty") }
        let condition = try orExpression()
        guard position == tokens.count else { throw Refusal(construct: "condition syntax", message: "unexpected `\(describe(tokens[position]))`") }
        return condition
    }

    private func describe(_ token: Token) -> String {
        switch token {
        case .word(let word): word
        case .open: "("
        case .close: ")"
        }
    }

    private func isKeyword(_ word: String, _ keyword: String) -> Bool { word.lowercased() == keyword }

    private mutating func orExpression() throws(Refusal) -> SigmaCondition {
        var items = [try andExpression()]
        while position < tokens.count, case .word(let word) = tokens[position], isKeyword(word, "or") {
            position += 1
            items.append(try andExpression())
        }
        return items.count == 1 ? items[0] : .or(items)
    }

    private mutating func andExpression() throws(Refusal) -> SigmaCondition {
        var items = [try unary()]
        while position < tokens.count, case .word(let word) = tokens[position], isKeyword(word, "and") {
            position += 1
            items.append(try unary())
        }
        return items.count == 1 ? items[0] : .and(items)
    }

    private mutating func unary() throws(Refusal) -> SigmaCondition {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Self.maxDepth else {
            throw Refusal(construct: "condition depth", message: "the condition nests deeper than \(Self.maxDepth)")
        }
        guard position < tokens.count else { throw Refusal(construct: "condition syntax", message: "the condition ends too early") }
        let token = tokens[position]
        position += 1
        switch token {
        case .open:
            let inner = try orExpression()
            guard position < tokens.count, tokens[position] == .close else {
                throw Refusal(construct: "condition syntax", message: "a `(` without its `)`")
            }
            position += 1
            return inner
        case .close:
            throw Refusal(construct: "condition syntax", message: "a `)` without its `(`")
        case .word(let word):
            if isKeyword(word, "not") { return .not(try unary()) }
            if isKeyword(word, "and") || isKeyword(word, "or") {
                throw Refusal(construct: "condition syntax", message: "`\(word)` with nothing before it")
            }
            if isKeyword(word, "all") || Int(word) != nil { return try quantified(word) }
            guard let index = identifiers.firstIndex(of: word) else {
                throw Refusal(construct: "condition identifier", message: "`\(word)` is not a search identifier of the detection")
            }
            return .search(index)
        }
    }

    /// `1 of X`, `all of X`, `N of X` (X a pattern with `*`, or `them`).
    private mutating func quantified(_ quantity: String) throws(Refusal) -> SigmaCondition {
        guard position + 1 < tokens.count, case .word(let of) = tokens[position], isKeyword(of, "of"),
              case .word(let target) = tokens[position + 1] else {
            throw Refusal(construct: "condition syntax", message: "`\(quantity)` must be followed by `of` and identifiers")
        }
        position += 2
        let matched: [Int]
        if isKeyword(target, "them") {
            matched = identifiers.indices.filter { !identifiers[$0].hasPrefix("_") }
        } else {
            let pattern = SigmaPattern(Array(target.utf8), cased: true)
            matched = identifiers.indices.filter { index in
                Array(identifiers[index].utf8).withUnsafeBufferPointer { pattern.matches($0) }
            }
        }
        guard !matched.isEmpty else {
            throw Refusal(construct: "condition identifier", message: "`\(target)` names no search identifier of the detection")
        }
        let searches = matched.map(SigmaCondition.search)
        if isKeyword(quantity, "all") { return searches.count == 1 ? searches[0] : .and(searches) }
        guard quantity == "1" else {
            throw Refusal(construct: "condition N of", message: "`\(quantity) of` (other than 1 and all) is not in the specification")
        }
        return searches.count == 1 ? searches[0] : .or(searches)
    }
}
