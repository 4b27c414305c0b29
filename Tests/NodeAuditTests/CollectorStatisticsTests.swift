@testable import Pipeline
import Collector
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
}
