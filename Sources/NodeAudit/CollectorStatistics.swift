/// The live collector's counters at one moment, in the two forms operators read: the
/// stderr line (`name=value …`) and the Prometheus text exposition format for /metrics.
import Output

struct CollectorStatistics {
    struct Counter {
        let name: String
        let metric: String
        let help: String
        let isGauge: Bool
        /// As written (an integer, or seconds with a fraction); nil when it could not be read
        /// (the kernel did not answer).
        let value: String?
    }

    let counters: [Counter]

    init(pipeline: PipelineCounters, inFlight: Int, kernelLost: UInt64?, backlog: UInt64?, overflows: UInt64,
         delivery: DeliveryCounters, driftRepairs: UInt64) {
        func counter(_ name: String, _ metric: String, _ help: String, _ value: UInt64?, gauge: Bool = false) -> Counter {
            Counter(name: name, metric: "nodeaudit_" + metric, help: help, isGauge: gauge, value: value.map(String.init))
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
            counter("late", "late_records_total", "Records that arrived after their event was emitted.", pipeline.assembly.lateRecords),
            counter("in_flight", "events_in_flight", "Events waiting for their last record.", UInt64(inFlight), gauge: true),
            counter("output_queued_bytes", "output_pending_bytes", "Bytes of events waiting for the outputs (memory queues and spools).",
                    UInt64(delivery.pendingBytes), gauge: true),
            counter("output_dropped", "output_dropped_events_total", "Events dropped because an output queue or spool was full or the output failed.",
                    delivery.droppedEvents),
            counter("output_delivered", "output_delivered_events_total", "Events the outputs delivered.", delivery.deliveredEvents),
            counter("output_resent", "output_resent_events_total", "Events sent again after a collector connection broke.", delivery.resentEvents),
            counter("output_errors", "output_send_errors_total", "Failed sends to collectors.", delivery.sendErrors),
            Counter(name: "output_last_send_seconds", metric: "nodeaudit_output_last_send_seconds",
                    help: "How long the last send to a collector took.", isGauge: true,
                    value: String(Double(delivery.lastSendMilliseconds) / 1000)),
            counter("drift_repairs", "drift_repairs_total", "Times the kernel's rules or settings were found changed and restored.", driftRepairs),
        ]
    }

    /// `records=… events=… kernel_lost=… …` for stderr.
    var line: String {
        counters.map { "\($0.name)=\($0.value ?? "?")" }.joined(separator: " ")
    }

    /// The Prometheus text format; counters that could not be read are left out.
    var prometheus: String {
        var text = ""
        for counter in counters {
            guard let value = counter.value else { continue }
            text += "# HELP \(counter.metric) \(counter.help)\n"
            text += "# TYPE \(counter.metric) \(counter.isGauge ? "gauge" : "counter")\n"
            text += "\(counter.metric) \(value)\n"
        }
        return text
    }
}
