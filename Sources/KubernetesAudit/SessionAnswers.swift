import AuditEvents

/// What the API audit stream said of each exec session, by session id: a session is looked
/// up once, at its first event, and every later event gets the same answer. Bounded: the
/// oldest sessions are forgotten first.
struct SessionAnswers {
    private var answers: [String: ExecRequesterMatch] = [:]
    private var order: [String] = []
    private var oldest = 0
    static let capacity = 4096

    func knows(_ session: String) -> Bool { answers[session] != nil }

    /// The session's answer, looked up with `lookUp` the first time.
    mutating func answer(for session: String, lookUp: () -> ExecRequesterMatch) -> ExecRequesterMatch {
        if let known = answers[session] { return known }
        let answer = lookUp()
        answers[session] = answer
        if order.count < Self.capacity {
            order.append(session)
        } else {
            answers[order[oldest]] = nil
            order[oldest] = session
            oldest = (oldest + 1) % Self.capacity
        }
        return answer
    }
}
