import RuleSync
import Pipeline
import AuditKernel
import Configuration
import Output
import HostIO
import KubernetesAudit
import KubernetesAuditInput

/// The settings of one `nodeaudit run`.
package struct LiveOptions: Sendable {
    package var ruleFiles: [String]
    /// Where the node's root directory is seen when not at `/` (a pod's host mount):
    /// watch rules are checked and added there; empty: `/`.
    package var hostRoot: String
    /// Load `ruleFiles` before reading, and keep them loaded (drift repair).
    package var applyRules: Bool
    package var mode: AuditEventSocket.Mode
    /// When another live process is the audit daemon, stop it and register in its place.
    package var takeOver: Bool
    /// On exit, remove the rules nodeaudit loaded and put back the settings it changed.
    package var cleanup: Bool
    /// Seconds between comparisons of the kernel's rules and settings with `ruleFiles`; 0 for none.
    package var driftCheckSeconds: Double
    /// Seconds between statistics lines on stderr; 0 for none (the final line is always written).
    package var statsIntervalSeconds: Double
    package var receiveBufferBytes: Int32
    /// Bytes of encoded events that may wait for a slow output before new ones are dropped
    /// (and counted); the reader never waits for the output.
    package var outputQueueBytes: Int
    /// Write events to stdout.
    package var stdout: Bool
    /// Write events to a file rotated by size; nil for none.
    package var file: (path: String, maxBytes: Int, generations: Int)?
    /// Send events to a syslog collector; nil for none.
    package var syslog: (host: String, port: UInt16, transport: SyslogTransport.Transport)?
    package var syslogTLS: TLSSettings
    /// POST events to an HTTP(S) log store; nil for none.
    package var http: (url: String, format: HTTPTransport.Format, index: String, headers: [String], tls: TLSSettings)?
    /// Where spools of collector outputs live, and their size each.
    package var spoolDirectory: String
    package var spoolBytes: Int
    /// Where the stream state for the next run is kept.
    package var stateDirectory: String
    /// `ADDRESS:PORT` for /healthz and /metrics; nil for none.
    package var healthListen: String?
    /// The unix socket the pod's probes (`nodeaudit health`) ask, reaching this process.
    package var healthSocket: String?
    package var events: EventOptions
    /// The API server's audit stream (`k8s_audit.*`); nil when no source is configured.
    package var kubernetesAudit: KubernetesAuditIntake.Settings?

    /// The options a layered configuration (defaults, file, environment, flags) gives.
    package init(configuration c: Configuration) {
        ruleFiles = DefaultRules.resolve(c.texts(.ruleFiles))
        hostRoot = c.hostRoot
        applyRules = c.bool(.applyRules)
        mode = c.text(.mode) == "multicast" ? .multicast : .unicast
        takeOver = c.bool(.takeOver)
        cleanup = c.bool(.cleanup)
        driftCheckSeconds = c.number(.driftCheck)
        statsIntervalSeconds = c.number(.statsInterval)
        receiveBufferBytes = Int32(c.integer(.receiveBuffer))
        outputQueueBytes = c.integer(.outputQueue) << 20
        healthListen = c.text(.healthListen).isEmpty ? nil : c.text(.healthListen)
        healthSocket = c.text(.healthSocket).isEmpty ? nil : c.text(.healthSocket)
        stdout = c.bool(.stdout)
        syslog = SyslogAddress.parse(c.text(.syslog))
        let nonEmpty = { (text: String) in text.isEmpty ? nil : text }
        syslogTLS = TLSSettings(caFile: nonEmpty(c.text(.syslogCA)), certificateFile: nonEmpty(c.text(.syslogCertificate)),
                                keyFile: nonEmpty(c.text(.syslogKey)))
        http = nonEmpty(c.text(.http)).map {
            ($0, HTTPTransport.Format(rawValue: c.text(.httpFormat)) ?? .elasticsearch, c.text(.httpIndex), c.texts(.httpHeaders),
             TLSSettings(caFile: nonEmpty(c.text(.httpCA))))
        }
        spoolDirectory = c.text(.spoolDirectory)
        spoolBytes = c.integer(.spoolMB) << 20
        stateDirectory = c.text(.stateDirectory)
        file = c.text(.outputFile).isEmpty ? nil : (c.text(.outputFile), c.integer(.fileMaxMB) << 20, c.integer(.fileGenerations))
        events = EventOptions(configuration: c, onThisHost: true, attribute: c.bool(.attribution), nodeName: EventOptions.nodeName(c))
        let webhook = nonEmpty(c.text(.k8sWebhookListen)).flatMap { try? TCPListenAddress($0) }.map {
            APIAuditWebhook.Settings(listen: $0, certificateFile: c.text(.k8sWebhookCertificate), keyFile: c.text(.k8sWebhookKey),
                                     clientCAFile: c.text(.k8sWebhookClientCA), maxBodyBytes: c.integer(.k8sWebhookMaxBodyMB) << 20)
        }
        let file = nonEmpty(c.text(.k8sAuditFile))
        if file != nil || webhook != nil {
            // The configuration's check has refused any other stage value, and a bad address.
            kubernetesAudit = KubernetesAuditIntake.Settings(
                file: file, webhook: webhook, stateDirectory: stateDirectory,
                stages: StageSelection(setting: c.text(.k8sAuditStages)) ?? StageSelection(mode: .completing),
                joinWindowMilliseconds: Int64(c.number(.k8sJoinWindow) * 1000), ecs: events.ecs, staticFields: events.staticFields,
                maxEventBytes: events.maxEventBytes)
        }
    }
}
