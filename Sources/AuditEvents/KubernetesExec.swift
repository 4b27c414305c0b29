/// The first argv of an exec session, as the Kubernetes exec key needs it: a digest of
/// every byte (argv is attacker-written, and may be long), and a bounded copy to show.
public struct ExecCommand: Sendable, Equatable {
    /// SHA-256 over each argument followed by a NUL byte.
    public var digest: [UInt8]
    /// The arguments, cut once their total passes `shownBytes`.
    public var shown: [String]
    /// Whether `shown` lacks some of the arguments' bytes.
    public var isCut: Bool

    /// At most this many bytes of argv are kept to show (the digest covers all of them).
    public static let shownBytes = 4096

    public init<C: Collection>(arguments: C) where C.Element: Collection, C.Element.Element == UInt8 {
        var hash = SHA256()
        var shown: [String] = []
        var budget = Self.shownBytes
        var isCut = false
        for argument in arguments {
            hash.update(argument)
            hash.update(CollectionOfOne(0))
            if budget >= argument.count {
                shown.append(String(decoding: argument, as: UTF8.self))
                budget -= argument.count
            } else {
                if budget > 0 { shown.append(String(decoding: argument.prefix(budget), as: UTF8.self)) }
                budget = 0
                isCut = true
            }
        }
        self.digest = hash.finish()
        self.shown = shown
        self.isCut = isCut
    }
}

/// `k8s.exec.key`: one stable value that both sides of a `kubectl exec` carry, the API
/// server's request and the node's exec session, so that a store (or nodeaudit) joins them
/// without either side knowing the other's ids.
///
/// The first 32 hex digits of SHA-256 over `namespace NUL pod NUL container NUL` followed by
/// the command's digest in hex (`ExecCommand.digest`).
public enum ExecKey {
    public static func make(namespace: String, pod: String, container: String, command: ExecCommand) -> String {
        var hash = SHA256()
        for part in [namespace, pod, container] {
            hash.update(part)
            hash.update(CollectionOfOne(0))
        }
        hash.update(SHA256.hexString(command.digest))
        return String(SHA256.hexString(hash.finish()).prefix(32))
    }
}

/// Who asked the API server for an exec: the user an API audit event names.
public struct KubernetesRequester: Sendable, Equatable {
    public var username: String?
    public var uid: String?
    public var groups: [String]
    public var impersonatedUser: String?
    public var impersonatedGroups: [String]
    public var sourceIPs: [String]
    public var userAgent: String?
    public var auditID: String
    /// `create` (SPDY, older kubectl) or `get` (websocket).
    public var verb: String?

    public init(username: String?, uid: String?, groups: [String], impersonatedUser: String?, impersonatedGroups: [String],
                sourceIPs: [String], userAgent: String?, auditID: String, verb: String?) {
        self.username = username
        self.uid = uid
        self.groups = groups
        self.impersonatedUser = impersonatedUser
        self.impersonatedGroups = impersonatedGroups
        self.sourceIPs = sourceIPs
        self.userAgent = userAgent
        self.auditID = auditID
        self.verb = verb
    }
}

/// What the API audit stream says of an exec session's key.
public enum ExecRequesterMatch: Sendable, Equatable {
    /// One API request with the key lies within the window.
    case found(KubernetesRequester)
    /// Several do: their auditIDs, none guessed.
    case ambiguous(auditIDs: [String])
    /// None does: a runtime exec that did not pass through the API server (or one its
    /// audit policy did not record).
    case notFound
}

/// The Kubernetes side of an event in an exec session: its key, and once the API audit
/// stream was joined, who asked for it.
public struct KubernetesExec: Sendable, Equatable {
    public var key: String
    public var requester: ExecRequesterMatch?

    public init(key: String, requester: ExecRequesterMatch? = nil) {
        self.key = key
        self.requester = requester
    }
}
