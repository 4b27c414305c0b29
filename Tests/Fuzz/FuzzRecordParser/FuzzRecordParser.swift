import AuditRecords

/// libFuzzer entry: every line of the input as an audit.log line, and the whole input as
/// a netlink message (first two bytes: the record type). Parsing must never crash, and a
/// parsed record's fields must lie inside its text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    for line in input.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
        if let record = try? RecordParser.parseLogLine(Array(line)) { inspect(record) }
    }
    if size >= 2 {
        let type = UInt16(input[0]) | UInt16(input[1]) << 8
        let payload = UnsafeRawBufferPointer(start: data + 2, count: size - 2)
        if let record = try? RecordParser.parseNetlink(type: type, payload: payload) { inspect(record) }
    }
    return 0
}

/// Reads every field and value the way the interpreter does; a range outside the record
/// traps here.
private func inspect(_ record: AuditRecord) {
    record.withContents { bytes, fields, interpretations in
        for field in Array(fields) + Array(interpretations) {
            _ = bytes[field.keyRange]
            let value = UnsafeBufferPointer(rebasing: bytes[field.valueRange])
            _ = UntrustedString.decode(value)
            _ = ByteNumbers.decimal(value)
            _ = ByteNumbers.hexadecimal(value)
        }
    }
    _ = record.typeName
    _ = record.text
    _ = record.node
}
