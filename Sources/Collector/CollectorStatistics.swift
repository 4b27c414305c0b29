import AuditEvents
import Enrichment
import Pipeline
import Output
import KubernetesAuditInput

/// The live collector's counters at one moment, in the two forms operators read: the
/// stderr line (`name=value …`, outputs added up) and the Prometheus text exposition
/// format for /metrics (outputs labelled `output="stdout"`, `"file"`, `"syslog"`, `"http"`).
package struct CollectorStatistics {
    package struct Counter {
        package let name: String
        package let metric: String
        package let help: String
        package let isGauge: Bool
        /// As written (an integer, or seconds with a fraction); nil when it could not be read
        /// (the kernel did not answer).
        package let value: String?
        /// Per output or filter: `(label value, value)`, under `labelName`.
        package var labelled: [(String, String)] = []
        package var labelName = "output"
    }

    package let counters: [Counter]

    package init(pipeline: PipelineCounters, inFlight: Int, kernelLost: UInt64?, backlog: UInt64?, overflows: UInt64,
         outputs: [(name: String, counters: DeliveryCounters)], driftRepairs: UInt64, restartMissing: UInt64 = 0,
         outputFailuresAtStop: UInt64 = 0, kubernetes: KubernetesAuditIntake.Counters? = nil) {
        let delivery = outputs.reduce(DeliveryCounters()) { $0 + $1.counters }
        let tables = pipeline.tables
            + (kubernetes.map { [TableSize("k8s_exec_requests", entries: $0.execRequests, capacity: $0.execRequestCapacity)] } ?? [])
        /// A counter of the outputs: their total on the stderr line, one labelled value each in /metrics.
        func output(_ name: String, _ metric: String, _ help: String, gauge: Bool = false,
                    _ value: (DeliveryCounters) -> String) -> Counter {
            Counter(name: name, metric: "nodeaudit_" + metric, help: help, isGauge: gauge, value: value(delivery),
                    labelled: outputs.map { ($0.name, value($0.counters)) })
        }
        func counter(_ name: String, _ metric: String, _ help: String, _ value: UInt64?, gauge: Bool = false) -> Counter {
            Counter(name: name, metric: "nodeaudit_" + metric, help: help, isGauge: gauge, value: value.map(String.init))
        }
        /// A counter per filter, rule or table: their total on the stderr line, one labelled value each in /metrics.
        func labelled(_ name: String, _ metric: String, _ help: String, by labelName: String, gauge: Bool = false,
                      _ values: [(String, UInt64)]) -> Counter {
            Counter(name: name, metric: "nodeaudit_" + metric, help: help, isGauge: gauge, value: String(values.reduce(0) { $0 + $1.1 }),
                    labelled: values.map { ($0.0, String($0.1)) }, labelName: labelName)
        }
        counters = [
            counter("records", "records_total", "Audit records read.", pipeline.assembly.records),
            counter("events", "events_total", "Events written to the output queue.", pipeline.eventsWritten),
            counter("kernel_lost", "kernel_lost_total", "Records the kernel lost since nodeaudit started (its lost counter).", kernelLost),
            counter("backlog", "kernel_backlog", "Records waiting in the kernel's audit backlog.", backlog, gauge: true),
            counter("missing_serials", "missing_serials_total", "Event serials that never arrived.", pipeline.serialGaps),
            counter("overflows", "receive_overflows_total", "Receive-buffer overflows of the audit socket (ENOBUFS).", overflows),
            counter("malformed", "malformed_records_total", "Messages that were not audit records.", pipeline.malformed),
            counter("malformed_events", "malformed_events_total", "Events emitted with malformed or missing fields.",
                    pipeline.eventsWithMalformedFields),
            counter("truncated", "truncated_events_total", "Events longer than events.max_event_bytes, written reduced and marked truncated.",
                    pipeline.eventsTruncated),
            labelled("filtered", "filtered_events_total", "Events a filter of events.filters dropped, by filter.", by: "filter",
                     pipeline.filtered.map { ($0.filter, $0.dropped) }),
            labelled("detections", "sigma_matches_total", "Events a Sigma rule matched, by rule (ID TITLE).", by: "rule",
                     pipeline.detections.map { ($0.rule, $0.matches) }),
            labelled("detections_by_level", "sigma_level_matches_total", "Events Sigma rules matched, by the rule's level.", by: "level",
                     Detection.Level.allCases.map { level in
                         (level.rawValue, pipeline.detections.filter { $0.level == level.rawValue }.reduce(0) { $0 + $1.matches })
                     }),
            counter("ancestry_evictions", "ancestry_evictions_total",
                    "Processes forgotten for ancestry because more than events.ancestry_processes were known.", pipeline.ancestryEvictions),
            counter("ancestry_processes", "ancestry_processes",
                    "Processes remembered for ancestry now, at most events.ancestry_processes.", pipeline.ancestryProcesses, gauge: true),
            labelled("table_entries", "table_entries", "Entries in each of nodeaudit's tables of the node's processes and sessions, by table.",
                     by: "table", gauge: true, tables.map { ($0.name, UInt64($0.entries)) }),
            labelled("table_capacity", "table_capacity", "The most entries each table keeps (past it, the oldest or exited go first), by table.",
                     by: "table", gauge: true, tables.map { ($0.name, UInt64($0.capacity)) }),
            counter("label_evictions", "label_evictions_total",
                    "Labelled processes forgotten because more than events.label_processes were known.", pipeline.labelEvictions),
            counter("late", "late_records_total", "Records that arrived after their event was emitted.", pipeline.assembly.lateRecords),
            counter("in_flight", "events_in_flight", "Events waiting for their last record.", UInt64(inFlight), gauge: true),
            output("output_queued_bytes", "output_pending_bytes", "Bytes of events waiting for an output (memory queue or spool).",
                   gauge: true) { String($0.pendingBytes) },
            output("output_dropped", "output_dropped_events_total",
                   "Events dropped because an output's queue or spool was full or the output failed.") { String($0.droppedEvents) },
            output("output_delivered", "output_delivered_events_total", "Events an output delivered.") { String($0.deliveredEvents) },
            output("output_refused", "output_refused_events_total",
                   "Events a collector refused for good (4xx), kept in the output's dead-letter file.") { String($0.refusedEvents) },
            output("output_refused_unkept", "output_refused_unkept_events_total",
                   "Refused events the dead-letter file did not take (full, or writing it failed): lost.") { String($0.refusedUnkeptEvents) },
            output("output_resent", "output_resent_events_total", "Events sent again after a collector connection broke.") {
                String($0.resentEvents)
            },
            output("output_errors", "output_send_errors_total", "Failed sends to a collector.") { String($0.sendErrors) },
            output("output_last_send_seconds", "output_last_send_seconds", "How long the last send to a collector took.",
                   gauge: true) { String(Double($0.lastSendMilliseconds) / 1000) },
            counter("drift_repairs", "drift_repairs_total", "Times the kernel's rules or settings were found changed and restored.", driftRepairs),
            counter("restart_missing", "restart_missing_events_total",
                    "Events the kernel logged between the previous run's last event and this run's first, which neither read.", restartMissing),
            counter("stop_output_failures", "stop_output_failures_total",
                    "Output failures while the last records were read and the last events written at stop.", outputFailuresAtStop),
        ] + (kubernetes.map(Self.kubernetesCounters) ?? [])
    }

    /// The API audit stream's counters (`k8s_audit.*` configured).
    private static func kubernetesCounters(_ k: KubernetesAuditIntake.Counters) -> [Counter] {
        [
            Counter(name: "k8s_events", metric: "nodeaudit_k8s_audit_events_total", help: "API server audit events read, by source.",
                    isGauge: false, value: String(k.events.reduce(0) { $0 + $1.count }),
                    labelled: k.events.map { ($0.source, String($0.count)) }, labelName: "source"),
            Counter(name: "k8s_rejected", metric: "nodeaudit_k8s_audit_rejected_total",
                    help: "API audit lines or batches refused, by reason (said on stderr with where).", isGauge: false,
                    value: String(k.rejected.reduce(0) { $0 + $1.count }),
                    labelled: k.rejected.map { ($0.reason, String($0.count)) }, labelName: "reason"),
            Counter(name: "k8s_webhook_refused_clients", metric: "nodeaudit_k8s_webhook_refused_clients_total",
                    help: "Webhook clients refused in the TLS handshake (no certificate, or one the client CA did not sign).",
                    isGauge: false, value: String(k.refusedClients)),
            Counter(name: "k8s_webhook_busy", metric: "nodeaudit_k8s_webhook_busy_batches_total",
                    help: "Webhook batches answered 503 (inbox full, or the outputs did not settle them in time); the API server sends them again.",
                    isGauge: false, value: String(k.busyBatches)),
            Counter(name: "k8s_webhook_bad", metric: "nodeaudit_k8s_webhook_bad_requests_total",
                    help: "Webhook requests answered 4xx.", isGauge: false, value: String(k.badBatches)),
            Counter(name: "k8s_webhook_closed", metric: "nodeaudit_k8s_webhook_closed_connections_total",
                    help: "Webhook connections closed at a deadline (idle, or too slow to send a request) or to make room.",
                    isGauge: false, value: String(k.closedConnections)),
            Counter(name: "k8s_file_rotations", metric: "nodeaudit_k8s_audit_file_rotations_total",
                    help: "Rotations of the API server's audit log followed (renamed aside, a new file).", isGauge: false,
                    value: String(k.rotations)),
            Counter(name: "k8s_file_truncations", metric: "nodeaudit_k8s_audit_file_truncations_total",
                    help: "Truncations of the API server's audit log (copy-truncate), read again from its start.", isGauge: false,
                    value: String(k.truncations)),
            Counter(name: "k8s_file_partial_bytes", metric: "nodeaudit_k8s_audit_file_partial_bytes_total",
                    help: "Bytes of last lines a rotated or truncated log ended without, dropped.", isGauge: false,
                    value: String(k.partialBytesDropped)),
            Counter(name: "k8s_exec_answered_later", metric: "nodeaudit_k8s_exec_sessions_answered_later_total",
                    help: "Exec sessions answered by a k8s_exec event after their first events were written.", isGauge: false,
                    value: String(k.sessionsAnswered)),
        ]
    }

    /// A label value as the exposition format writes it: a filter's text may hold `"` and `\\`.
    private static func escapedLabel(_ value: String) -> String {
        value.replacing("\\", with: "\\\\").replacing("\"", with: "\\\"").replacing("\n", with: "\\n")
    }

    /// `records=… events=… kernel_lost=… …` for stderr.
    package var line: String {
        counters.map { "\($0.name)=\($0.value ?? "?")" }.joined(separator: " ")
    }

    /// The Prometheus text format; counters that could not be read are left out.
    package var prometheus: String {
        var text = ""
        for counter in counters {
            guard let value = counter.value else { continue }
            text += "# HELP \(counter.metric) \(counter.help)\n"
            text += "# TYPE \(counter.metric) \(counter.isGauge ? "gauge" : "counter")\n"
            if counter.labelled.isEmpty {
                text += "\(counter.metric) \(value)\n"
            } else {
                for (label, labelledValue) in counter.labelled {
                    text += "\(counter.metric){\(counter.labelName)=\"\(Self.escapedLabel(label))\"} \(labelledValue)\n"
                }
            }
        }
        return text
    }
}
