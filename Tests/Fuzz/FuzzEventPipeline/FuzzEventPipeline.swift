import AuditEvents
import AuditRecords
import Pipeline
import Output

/// libFuzzer entry: the input as an audit log through the whole offline pipeline
/// (parse, correlate, interpret, encode). Whatever the records hold, the output must be
/// one well-formed line per event: an object, valid UTF-8, no raw control bytes.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventPipeline(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let sink = MemorySink()
    let pipeline = EventPipeline(
        assembly: AssemblyPolicy(maxEventsInFlight: 64, maxEventAgeMilliseconds: 2000),
        enrichers: [], encoder: NativeJSONEncoder(includeRecords: true), sink: sink)
    let input = UnsafeBufferPointer(start: data, count: size)
    for line in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
        guard let record = try? RecordParser.parseLogLine(Array(line)) else { continue }
        try! pipeline.add(record)
    }
    try! pipeline.finish()
    let lines = sink.bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
    precondition(sink.bytes.isEmpty || sink.bytes.last == UInt8(ascii: "\n"), "output does not end with a newline")
    precondition(UInt64(lines.count) == pipeline.snapshot().eventsWritten, "lines and events differ")
    for line in lines {
        precondition(line.first == UInt8(ascii: "{") && line.last == UInt8(ascii: "}"), "a line is not an object")
        precondition(!line.contains { $0 < 0x20 }, "a raw control byte in the output")
        precondition(String(validating: line, as: UTF8.self) != nil, "output is not UTF-8")
    }
    return 0
}
