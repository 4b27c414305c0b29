/// Which stages of a request become `k8s_api` events (`k8s_audit.stages`). The API server
/// writes up to four events per request; by default nodeaudit writes one per auditID: the
/// stage that completes it, which for a long-running request (exec, attach, port forward,
/// watch) is ResponseStarted, since its ResponseComplete comes only when the stream ends.
package struct StageSelection: Sendable, Equatable {
    package enum Mode: Sendable, Equatable {
        case completing
        case stages(Set<String>)
    }

    package static let stageNames = ["RequestReceived", "ResponseStarted", "ResponseComplete", "Panic"]

    package var mode: Mode
    /// auditIDs already written in `completing` mode, oldest first, bounded.
    private var written: Set<String> = []
    private var writtenOrder: [String] = []
    private var oldest = 0
    package static let rememberedRequests = 65_536

    package init(mode: Mode) { self.mode = mode }

    /// `completing`, `all`, or one stage's name (`k8s_audit.stages`); nil for another text.
    package init?(setting text: String) {
        switch text {
        case "completing": mode = .completing
        case "all": mode = .stages(Set(Self.stageNames))
        case let name where Self.stageNames.contains(name): mode = .stages([name])
        default: return nil
        }
    }

    /// Whether `event` is written.
    package mutating func selects(_ event: APIAuditEvent) -> Bool {
        switch mode {
        case .stages(let names): return event.stage.map(names.contains) ?? true
        case .completing:
            switch event.stage {
            case "ResponseComplete", "Panic", nil: break
            case "ResponseStarted" where event.isLongRunning: break
            default: return false
            }
            return remember(event.auditID)
        }
    }

    /// False when the auditID was written already (its ResponseComplete after its ResponseStarted).
    private mutating func remember(_ auditID: String) -> Bool {
        guard written.insert(auditID).inserted else { return false }
        if writtenOrder.count < Self.rememberedRequests {
            writtenOrder.append(auditID)
        } else {
            written.remove(writtenOrder[oldest])
            writtenOrder[oldest] = auditID
            oldest = (oldest + 1) % Self.rememberedRequests
        }
        return true
    }
}
