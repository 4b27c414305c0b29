import HostIO
import Output

/// What was lost between the previous `nodeaudit run` and this one: an event of its own
/// in the stream, so that whoever reads the events sees the gap where it happened.
///
/// `missing_events` counts the kernel's event serials that came after the last event the
/// previous run recorded as delivered and before the first this run read (0 when the runs
/// overlapped, as in a rolling update that reads the multicast copy first). A run killed
/// between a delivery and its record had delivered that batch too: the count errs by at
/// most one delivery, never below what is missing. `kernel_lost_records` is the
/// growth of the kernel's own `lost` counter meanwhile: records dropped while no daemon
/// was registered, which a multicast reader may still have seen.
package struct RestartGapReport {
    package var epochMilliseconds: UInt64
    package var node: String?
    package var previousSerial: UInt64
    package var firstSerial: UInt64
    package var kernelLostRecords: UInt64
    package var previousStoppedMilliseconds: UInt64

    package init(epochMilliseconds: UInt64, node: String?, previousSerial: UInt64, firstSerial: UInt64, kernelLostRecords: UInt64,
                 previousStoppedMilliseconds: UInt64) {
        self.epochMilliseconds = epochMilliseconds
        self.node = node
        self.previousSerial = previousSerial
        self.firstSerial = firstSerial
        self.kernelLostRecords = kernelLostRecords
        self.previousStoppedMilliseconds = previousStoppedMilliseconds
    }

    package var missingEvents: UInt64 { firstSerial > previousSerial + 1 ? firstSerial - previousSerial - 1 : 0 }

    package func encode(into w: inout JSONWriter) {
        w.beginOwnEvent(kind: "restart_gap", epochMilliseconds: epochMilliseconds, node: node, category: "daemon")
        w.key("gap")
        w.beginObject()
        w.key("previous_serial")
        w.number(previousSerial)
        w.key("first_serial")
        w.number(firstSerial)
        w.key("missing_events")
        w.number(missingEvents)
        w.key("kernel_lost_records")
        w.number(kernelLostRecords)
        w.key("previous_written_at")
        w.string(JSONWriter.rfc3339(previousStoppedMilliseconds))
        w.endObject()
        w.endObject()
        w.newline()
    }
}
