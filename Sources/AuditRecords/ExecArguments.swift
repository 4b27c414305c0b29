/// The argument vector of an execve, joined from one or more EXECVE records.
///
/// The kernel writes `argc=N a0=… a1=…`; an argument longer than it will put in one
/// field is split as `aN_len=TOTAL aN[0]=… aN[1]=…`, and the fields of one exec may span
/// several EXECVE records. Every part is quoted or hex on its own.
public struct ExecArguments: Sendable, Equatable {
    /// `argc` as the kernel reported it.
    public var argc: Int?
    /// The arguments, decoded, in the event's text.
    public var argv: [TextRange]
    /// Bytes and whole arguments left out because the total exceeded the output bound.
    public var omittedBytes = 0
    public var omittedArguments = 0
    /// Fields that named an argument out of order or were in neither string encoding, plus
    /// one when fewer arguments arrived than `argc` announced (a record lost or cut).
    public var malformedFields = 0

    public var isTruncated: Bool { omittedBytes > 0 || omittedArguments > 0 }

    /// Joins the EXECVE records among `records` (one event's) into `text`, keeping at most
    /// `byteLimit` bytes of arguments in total (the rest is counted in
    /// `omittedBytes`/`omittedArguments`).
    public init(records: [AuditRecord], byteLimit: Int, into text: inout EventText) {
        argc = nil
        argv = []
        // One EXECVE record (nearly every exec) is read in place; several are put in order.
        var execveRecords = 0
        for record in records where record.type == .execve { execveRecords += 1 }
        for record in execveRecords > 1 ? Self.inArgumentOrder(records.filter { $0.type == .execve }) : records where record.type == .execve {
            record.withContents { body, fields, _ in
                for field in fields {
                    let key = UnsafeBufferPointer(rebasing: body[field.keyRange])
                    let value = UnsafeBufferPointer(rebasing: body[field.valueRange])
                    if key.equals("argc") {
                        argc = ByteNumbers.decimal(value).flatMap { Int(exactly: $0) }
                        // Room for the arguments at once; argc bounded by the record's fields (a log may say anything).
                        if argv.isEmpty, let argc { argv.reserveCapacity(min(argc, fields.count)) }
                        continue
                    }
                    guard let index = Self.argumentIndex(key) else { continue }
                    // `aN_len` only announces the chunks that follow.
                    if index.isLength { continue }
                    guard index.number <= argv.count, index.number < (argc ?? Int.max) else {
                        malformedFields += UntrustedString.isMalformed(value) ? 2 : 1
                        continue
                    }
                    let (decoded, malformed) = text.appendDecoded(value)
                    if malformed { malformedFields += 1 }
                    let chunk = decoded ?? TextRange(start: text.count, end: text.count)
                    if index.number == argv.count {
                        argv.append(chunk)
                    } else if argv[index.number].end == chunk.start {
                        // The next chunk of a long argument, right after the one before.
                        argv[index.number].end = chunk.end
                    } else {
                        // A chunk of an earlier argument: copied so the argument stays in one piece.
                        let earlier = text[argv[index.number]] + text[chunk]
                        argv[index.number] = text.append(earlier[...])
                    }
                }
            }
        }
        if let argc, argv.count < argc { malformedFields += 1 }
        var budget = byteLimit
        var kept = 0
        for index in argv.indices {
            let length = argv[index].count
            if budget <= 0 {
                omittedArguments += 1
                omittedBytes += length
                continue
            }
            if length > budget {
                omittedBytes += length - budget
                argv[index].end = argv[index].start + UInt32(budget)
            }
            budget -= argv[index].count
            argv[kept] = argv[index]
            kept += 1
        }
        argv.removeSubrange(kept...)
    }

    /// The EXECVE records ordered by the first argument (and chunk) each holds: the kernel
    /// writes them in that order, but ausearch prints an event's records last first.
    private static func inArgumentOrder(_ records: [AuditRecord]) -> [AuditRecord] {
        let positions = records.map { record in
            record.withContents { body, fields, _ -> (Int, Int) in
                for field in fields {
                    if let index = argumentIndex(UnsafeBufferPointer(rebasing: body[field.keyRange])), !index.isLength {
                        return (index.number, index.chunk)
                    }
                }
                return (Int.max, Int.max)
            }
        }
        return records.indices.sorted { positions[$0] < positions[$1] }.map { records[$0] }
    }

    private struct ArgumentIndex { var number: Int; var isLength: Bool; var chunk = 0 }

    /// Reads `aN`, `aN_len` and `aN[i]` keys.
    private static func argumentIndex(_ key: UnsafeBufferPointer<UInt8>) -> ArgumentIndex? {
        guard key.count >= 2, key[0] == UInt8(ascii: "a") else { return nil }
        var i = 1
        var number = 0
        while i < key.count, i <= 7, case let digit = key[i] &- UInt8(ascii: "0"), digit < 10 {
            number = number * 10 + Int(digit)
            i += 1
        }
        guard i > 1 else { return nil }
        if i == key.count { return ArgumentIndex(number: number, isLength: false) }
        let rest = UnsafeBufferPointer(rebasing: key[i...])
        if rest.equals("_len") { return ArgumentIndex(number: number, isLength: true) }
        if key[i] == UInt8(ascii: "["), key[key.count - 1] == UInt8(ascii: "]") {
            let chunk = ByteNumbers.decimal(UnsafeBufferPointer(rebasing: key[(i + 1)..<(key.count - 1)])).flatMap { Int(exactly: $0) } ?? 0
            return ArgumentIndex(number: number, isLength: false, chunk: chunk)
        }
        return nil
    }
}

/// The command line from a PROCTITLE record: the process's argv as the kernel saw it in
/// its memory, NUL-separated and cut at 128 bytes by the kernel.
public enum ProcessTitle {
    /// The arguments, decoded into `text`; nil when the record has no title, or one in
    /// neither of the kernel's forms (`malformed` then says so: decoded, it would be garbage).
    /// `room`, an empty array, holds them when it has the capacity.
    public static func argv(
        _ record: AuditRecord, into text: inout EventText, room: consuming [TextRange] = [], malformed: inout Bool
    ) -> [TextRange]? {
        guard let (title, wasMalformed) = record.withRaw("proctitle", { raw in
            let decoded = text.appendDecoded(raw)
            return decoded.range.map { ($0, decoded.wasMalformed) }
        }) else { return nil }
        if wasMalformed {
            malformed = true
            return nil
        }
        var parts = room
        // A title has a handful of words (the kernel cuts it at 128 bytes): room for eight at once.
        parts.reserveCapacity(8)
        text.split(title, separator: 0, appendingTo: &parts)
        return parts
    }
}
