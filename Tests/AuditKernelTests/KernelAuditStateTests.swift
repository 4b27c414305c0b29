import AuditKernel
import AuditRules
import Testing
import TestSupport

/// Putting the kernel back as a trial run found it, against a stand-in channel: no root
/// and no kernel needed, and every call is seen in its order.
@Suite("the kernel's audit state, put back")
struct KernelAuditStateTests {
    static func rule(_ line: String) throws -> EncodedRule { try StandInAuditChannel.rule(line) }

    @Test("rules added since are deleted, rules removed since come back, settings are restored with enabled last")
    func restore() throws {
        let kept = try Self.rule("-a always,exit -F arch=b64 -S execve -F key=kept")
        let removed = try Self.rule("-a always,exit -F arch=b64 -S connect -F key=removed")
        let added = try Self.rule("-a always,exit -F arch=b64 -S openat -F key=added")
        let before = KernelAuditState(status: AuditStatus(enabled: 0, backlogLimit: 64, backlogWaitTime: 15_000),
                                      rules: [kept.data, removed.data])
        let channel = StandInAuditChannel(status: AuditStatus(enabled: 1, backlogLimit: 8192, backlogWaitTime: 0),
                                          rules: [kept.data, added.data])
        let (changes, failures) = before.restore(channel)
        #expect(failures.isEmpty)
        #expect(channel.calls == [
            "delete \(RuleFormatter.text(added.data))", "add \(RuleFormatter.text(removed.data))",
            "set backlog_limit 64", "set backlog_wait_time 15000", "set enabled 0",
        ])
        #expect(changes.count == 5 && changes.last == "~ enabled: 1 -> 0")
        #expect(Set(channel.listing) == Set([kept.data, removed.data].map(RuleFormatter.text)))
        #expect(channel.current.enabled == 0 && channel.current.backlogLimit == 64)
    }

    @Test("a change the kernel refuses is reported and the rest still made")
    func refused() throws {
        let removed = try Self.rule("-a always,exit -F arch=b64 -S connect -F key=removed")
        let before = KernelAuditState(status: AuditStatus(enabled: 0), rules: [removed.data])
        let channel = StandInAuditChannel(status: AuditStatus(enabled: 1))
        channel.refusedRules = [RuleFormatter.text(removed.data)]
        let (changes, failures) = before.restore(channel)
        #expect(failures.count == 1 && failures[0].hasPrefix("+ \(RuleFormatter.text(removed.data))"))
        #expect(changes == ["~ enabled: 1 -> 0"])
    }

    @Test("every setting has its row on the kernel's side: a state of all five restores all five")
    func everySetting() {
        let before = KernelAuditState(status: AuditStatus(enabled: 0, failure: 2, rateLimit: 7, backlogLimit: 99, backlogWaitTime: 5), rules: [])
        let channel = StandInAuditChannel(status: AuditStatus(enabled: 1, failure: 1, rateLimit: 0, backlogLimit: 64, backlogWaitTime: 0))
        _ = before.restore(channel)
        #expect(channel.calls == ["set failure 2", "set rate_limit 7", "set backlog_limit 99", "set backlog_wait_time 5", "set enabled 0"])
        #expect(channel.current == AuditStatus(enabled: 0, failure: 2, rateLimit: 7, backlogLimit: 99, backlogWaitTime: 5))
    }
}
