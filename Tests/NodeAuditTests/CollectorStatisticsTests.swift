@testable import Pipeline
import Collector
import Enrichment
import KubernetesAuditInput
import Testing

@Suite("statistics line and /metrics")
struct CollectorStatisticsTests {
    static func statistics(filtered: [(filter: String, dropped: UInt64)]) -> CollectorStatistics {
        var pipeline = PipelineCounters()
        pipeline.filtered = filtered
        return CollectorStatistics(pipeline: pipeline, inFlight: 0, kernelLost: 0, backlog: 0, overflows: 0, outputs: [], driftRepairs: 0)
    }

    @Test("each filter's drops are one labelled series, its text escaped; the stderr line has their sum")
    func filterSeries() {
        let statistics = Self.statistics(filtered: [("drop exe=/usr/bin/true", 7), (#"drop comm=a"b\c"#, 2)])
        let metrics = statistics.prometheus
        #expect(metrics.contains(#"nodeaudit_filtered_events_total{filter="drop exe=/usr/bin/true"} 7"#))
        #expect(metrics.contains(#"nodeaudit_filtered_events_total{filter="drop comm=a\"b\\c"} 2"#))
        #expect(metrics.contains("# TYPE nodeaudit_filtered_events_total counter"))
        #expect(statistics.line.contains(" filtered=9 "))
    }

    @Test("without filters the counter is one series at zero")
    func noFilters() {
        let metrics = Self.statistics(filtered: []).prometheus
        #expect(metrics.contains("\nnodeaudit_filtered_events_total 0\n"))
        #expect(!metrics.contains("nodeaudit_filtered_events_total{"))
    }

    @Test("each table of the node is a gauge series beside its capacity, the API exec requests among them when the API stream is read")
    func tableSeries() {
        var pipeline = PipelineCounters()
        pipeline.tables = [TableSize("ancestry", entries: 120, capacity: 50_000), TableSize("processes", entries: 80, capacity: 40_000)]
        var kubernetes = KubernetesAuditIntake.Counters()
        kubernetes.execRequests = 3
        kubernetes.execRequestCapacity = 10_000
        let statistics = CollectorStatistics(pipeline: pipeline, inFlight: 0, kernelLost: 0, backlog: 0, overflows: 0, outputs: [], driftRepairs: 0,
                                             kubernetes: kubernetes)
        let metrics = statistics.prometheus
        #expect(metrics.contains("# TYPE nodeaudit_table_entries gauge"))
        #expect(metrics.contains(#"nodeaudit_table_entries{table="ancestry"} 120"#))
        #expect(metrics.contains(#"nodeaudit_table_capacity{table="processes"} 40000"#))
        #expect(metrics.contains(#"nodeaudit_table_entries{table="k8s_exec_requests"} 3"#))
        #expect(metrics.contains(#"nodeaudit_table_capacity{table="k8s_exec_requests"} 10000"#))
        #expect(statistics.line.contains(" table_entries=203 "))
    }
}
