import AuditKernel
import AuditRules
import RuleSync
import Testing
import TestSupport

/// The rule engine against a stand-in kernel: what `rules apply`, `run`, reloads and
/// drift repair do to the kernel, offline.
@Suite("the rule engine, offline")
struct RuleSyncTests {
    static func wanted(_ text: String) throws -> WantedRules {
        try WantedRules(lines: RuleFileParser.parseLines(text, file: "test.rules"), allowImmutable: false)
    }

    @Test("at load: rules added, settings changed with enabled last, then the lost counter reset; each change said")
    func load() throws {
        let wanted = try Self.wanted("-b 8192\n-a always,exit -F arch=b64 -S execve -F key=exec\n-e 1\n--reset-lost\n")
        let channel = StandInAuditChannel(status: AuditStatus(enabled: 0, backlogLimit: 64, lost: 7))
        var said: [String] = []
        let sync = RuleSync(output: { said.append($0) })
        let plan = try sync.plan(wanted, on: channel, ownership: nil, atLoad: true)
        var ownership: RuleOwnership?
        let enacted = sync.enact(plan, on: channel, ownership: &ownership)
        #expect(channel.calls == ["set backlog_limit 8192", "add -a always,exit -F arch=b64 -S execve -F key=exec", "set enabled 1", "reset lost"]
                || channel.calls == ["add -a always,exit -F arch=b64 -S execve -F key=exec", "set backlog_limit 8192", "set enabled 1", "reset lost"],
                "\(channel.calls)")
        #expect(channel.calls.last == "reset lost" && channel.calls.dropLast().last == "set enabled 1")
        #expect(enacted.added == ["-a always,exit -F arch=b64 -S execve -F key=exec"] && enacted.failures.isEmpty)
        #expect(said.count == 4)
        // Drift repair later: the same plan, nothing to do, and never the once-per-load parts.
        let repair = try sync.plan(wanted, on: channel, ownership: nil, atLoad: false)
        #expect(repair.isEmpty)
    }

    @Test("a locked kernel gives no plan; a refused rule is a failure and the rest is made")
    func lockedAndRefused() throws {
        let wanted = try Self.wanted("-a always,exit -F arch=b64 -S execve -F key=exec\n-a always,exit -F arch=b64 -S connect -F key=net\n")
        let sync = RuleSync(output: { _ in })
        #expect(throws: RuleSync.PlanError.self) {
            try sync.plan(wanted, on: StandInAuditChannel(status: AuditStatus(enabled: 2)), ownership: nil, atLoad: true)
        }
        let channel = StandInAuditChannel(status: AuditStatus(enabled: 1))
        channel.refusedRules = ["-a always,exit -F arch=b64 -S execve -F key=exec"]
        var ownership: RuleOwnership?
        let enacted = sync.enact(try sync.plan(wanted, on: channel, ownership: nil, atLoad: true), on: channel, ownership: &ownership)
        #expect(enacted.failures.count == 1 && enacted.failures[0].contains("-S execve"))
        #expect(channel.listing == ["-a always,exit -F arch=b64 -S connect -F key=net"])
    }

    @Test("pruning while sharing the kernel, another tool's rule stays; pruning alone (rules apply --prune), it goes")
    func scope() throws {
        let wanted = try Self.wanted("-a always,exit -F arch=b64 -S execve -F key=exec\n")
        let foreign = try StandInAuditChannel.rule("-a always,exit -F arch=b64 -S ptrace -F key=other-tool")
        for shares in [true, false] {
            let channel = StandInAuditChannel(status: AuditStatus(enabled: 1), rules: [foreign.data])
            let sync = RuleSync(prune: true, sharesKernel: shares, output: { _ in })
            var ownership: RuleOwnership?
            _ = sync.enact(try sync.plan(wanted, on: channel, ownership: nil, atLoad: true), on: channel, ownership: &ownership)
            #expect(channel.listing.contains("-a always,exit -F arch=b64 -S ptrace -F key=other-tool") == shares, "sharing: \(shares)")
            #expect(channel.listing.contains("-a always,exit -F arch=b64 -S execve -F key=exec"))
        }
    }
}
