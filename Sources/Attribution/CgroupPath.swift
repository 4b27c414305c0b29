import AuditEvents

/// Reads a process's `/proc/PID/cgroup` text: which container (id and runtime), which
/// Kubernetes pod (uid and QoS class) and which systemd unit it belongs to.
///
/// Audit records carry no cgroup, so this is how an event is tied to a workload. The
/// layouts differ per runtime, cgroup driver and cgroup version; all are read here, and
/// nested runtimes (a kind node in docker, docker in docker) resolve to the innermost.
package enum CgroupPath {
    /// The workload named by the whole file: v1 lists one line per hierarchy, v2 one `0::`
    /// line; the most telling line wins (container, then pod, then unit, then v2).
    package static func workload(fromFile text: some Sequence<UInt8>) -> Workload? {
        var best: (rank: Int, workload: Workload)?
        for line in String(decoding: Array(text), as: UTF8.self).split(separator: "\n") {
            // hierarchy-id:controllers:path — the path may itself hold colons.
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, parts[2].hasPrefix("/") else { continue }
            let workload = Self.workload(path: String(parts[2]))
            let identity = workload.container != nil ? 3 : workload.pod != nil ? 2 : workload.unit != nil ? 1 : 0
            let rank = identity * 4 + (parts[2] == "/" ? 0 : 2) + (parts[0] == "0" ? 1 : 0)
            if best == nil || rank > best!.rank { best = (rank, workload) }
        }
        return best?.workload
    }

    /// The workload named by one cgroup path.
    package static func workload(path: String) -> Workload {
        var workload = Workload(cgroup: path)
        var previous: Substring = ""
        var qos: String?
        for pathSegment in path.split(separator: "/") {
            // containerd's systemd-style name `SLICE:cri-containerd:ID` holds a pod and a container.
            let pieces = pathSegment.contains(":") ? [pathSegment.prefix { $0 != ":" }, pathSegment] : [pathSegment]
            for segment in pieces {
                if let found = qosClass(segment) { qos = found }
                if let uid = podUID(segment) {
                    workload.pod = Workload.Pod(uid: uid, qosClass: qos ?? "guaranteed")
                    // A pod inside a container (kind, nested kubelets): the outer container
                    // is not the workload.
                    workload.container = nil
                    workload.unit = nil
                } else if let container = container(segment, parent: previous) {
                    workload.container = container
                    workload.unit = nil
                } else if isHelper(segment) {
                    workload.container = nil
                    workload.unit = String(segment)
                } else if let unit = unit(segment) {
                    workload.unit = unit
                }
            }
            if pathSegment != "container" { previous = pathSegment }
        }
        return workload
    }

    // MARK: - Segments

    /// `docker-ID.scope`, `cri-containerd-ID.scope`, `crio-ID.scope`, `libpod-ID.scope`,
    /// `libpod-ID` (podman's cgroupfs manager), `PARENT:cri-containerd:ID` (containerd's
    /// systemd-style path under cgroupfs names), or a bare `ID` whose parent says the runtime.
    static func container(_ segment: Substring, parent: Substring) -> Workload.Container? {
        if let colon = segment.lastIndex(of: ":") {
            let id = segment[segment.index(after: colon)...]
            let head = segment[..<colon]
            guard isContainerID(id), let prefixColon = head.lastIndex(of: ":") else { return nil }
            return Workload.Container(id: String(id), runtime: runtimeName(head[head.index(after: prefixColon)...]))
        }
        var name = segment
        if name.hasSuffix(".scope") { name = name.dropLast(".scope".count) }
        if isContainerID(name) {
            return Workload.Container(id: String(name), runtime: runtimeOfParent(parent))
        }
        guard let dash = name.lastIndex(of: "-") else { return nil }
        let id = name[name.index(after: dash)...]
        let prefix = name[..<dash]
        guard isContainerID(id), !prefix.hasSuffix("conmon"), let runtime = runtimeName(prefix) else { return nil }
        return Workload.Container(id: String(id), runtime: runtime)
    }

    /// The container runtimes' own helpers (conmon) run beside a container, not in it.
    static func isHelper(_ segment: Substring) -> Bool {
        segment.hasPrefix("crio-conmon-") || segment.hasPrefix("libpod-conmon-") || segment == "conmon"
    }

    static func runtimeName(_ prefix: Substring) -> String? {
        switch prefix {
        case "docker": return "docker"
        case "cri-containerd", "containerd": return "containerd"
        case "crio": return "cri-o"
        case "libpod": return "podman"
        default: return nil
        }
    }

    /// A bare id's parent: `/docker/ID`, containerd namespaces `/default/ID`, `/k8s.io/ID`,
    /// `/moby/ID` (docker on containerd), podman's `/libpod_parent/ID`.
    static func runtimeOfParent(_ parent: Substring) -> String? {
        switch parent {
        case "docker": return "docker"
        case "default", "k8s.io", "moby": return "containerd"
        case "libpod_parent", "machine.slice": return "podman"
        default: return nil
        }
    }

    /// `pod<uid>` (cgroupfs driver) or `…kubepods[-qos]-pod<uid_with_underscores>.slice`
    /// (systemd driver).
    static func podUID(_ segment: Substring) -> String? {
        let candidate: Substring
        if segment.hasSuffix(".slice"), segment.contains("kubepods") {
            let name = segment.dropLast(".slice".count)
            guard let dash = name.lastIndex(of: "-"), name[name.index(after: dash)...].hasPrefix("pod") else { return nil }
            candidate = name[name.index(after: dash)...].dropFirst(3)
        } else if segment.hasPrefix("pod") {
            candidate = segment.dropFirst(3)
        } else {
            return nil
        }
        let uid = String(candidate.map { $0 == "_" ? "-" : $0 }).lowercased()
        // Pod uids are UUIDs; static pods use a 32-hex-digit hash.
        guard (32...36).contains(uid.count), uid.allSatisfy({ $0.isHexDigit || $0 == "-" }) else { return nil }
        return uid
    }

    /// `besteffort`/`burstable` segments (cgroupfs) or `kubepods-besteffort[-pod…].slice` (systemd).
    static func qosClass(_ segment: Substring) -> String? {
        guard segment == "besteffort" || segment == "burstable" || segment.hasPrefix("kubepods-") || segment.contains("-kubepods-")
        else { return nil }
        if segment.contains("besteffort") { return "besteffort" }
        if segment.contains("burstable") { return "burstable" }
        return nil
    }

    static func unit(_ segment: Substring) -> String? {
        guard segment.hasSuffix(".service") || (segment.hasSuffix(".scope") && segment != "init.scope") else { return nil }
        return String(segment)
    }

    /// Container ids are 64 lowercase hex digits.
    static func isContainerID(_ text: Substring) -> Bool {
        text.utf8.count == 64 && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }
}
