/// The argument vector of an execve, joined from one or more EXECVE records.
///
/// The kernel writes `argc=N a0=… a1=…`; an argument longer than it will put in one
/// field is split as `aN_len=TOTAL aN[0]=… aN[1]=…`, and the fields of one exec may span
/// several EXECVE records. Every part is quoted or hex on its own.
public struct ExecArguments: Sendable, Equatable {
    /// `argc` as the kernel reported it.
    public var argc: Int?
    public var argv: [Bytes]
    /// Bytes and whole arguments left out because the total exceeded the output bound.
    public var omittedBytes = 0
    public var omittedArguments = 0
    /// Fields that named an argument out of order or were in neither string encoding, plus
    /// one when fewer arguments arrived than `argc` announced (a record lost or cut).
    public var malformedFields = 0

    public var isTruncated: Bool { omittedBytes > 0 || omittedArguments > 0 }

    /// Joins the EXECVE records of one event, keeping at most `byteLimit` bytes of
    /// arguments in total (the rest is counted in `omittedBytes`/`omittedArguments`).
    public init(records: [AuditRecord], byteLimit: Int) {
        argc = nil
        argv = []
        var parts: [[Bytes]] = []
        for record in records {
            for field in record.fields {
                let key = record.key(of: field)
                if key.equals("argc") {
                    argc = ByteNumbers.decimal(record.value(of: field)).flatMap { Int(exactly: $0) }
                    continue
                }
                guard let index = Self.argumentIndex(key) else { continue }
                // `aN_len` only announces the chunks that follow.
                if index.isLength { continue }
                let (value, malformed) = UntrustedString.decodeReportingMalformed(record.value(of: field))
                if malformed { malformedFields += 1 }
                guard index.number <= parts.count, index.number < (argc ?? Int.max) else {
                    malformedFields += 1
                    continue
                }
                if index.number == parts.count { parts.append([]) }
                parts[index.number].append(value ?? [])
            }
        }
        if let argc, parts.count < argc { malformedFields += 1 }
        var budget = byteLimit
        for chunks in parts {
            let length = chunks.reduce(0) { $0 + $1.count }
            if budget <= 0 {
                omittedArguments += 1
                omittedBytes += length
                continue
            }
            var joined = chunks.count == 1 ? chunks[0] : Bytes(chunks.joined())
            if length > budget {
                omittedBytes += length - budget
                joined = joined.prefix(budget)
            }
            budget -= joined.count
            argv.append(joined)
        }
    }

    private struct ArgumentIndex { var number: Int; var isLength: Bool }

    /// Reads `aN`, `aN_len` and `aN[i]` keys.
    private static func argumentIndex(_ key: Bytes) -> ArgumentIndex? {
        guard key.first == UInt8(ascii: "a"), key.count >= 2 else { return nil }
        var i = key.startIndex + 1
        var number = 0
        var digits = 0
        while i < key.endIndex, let d = ByteNumbers.decimal(key[i..<(i + 1)]), digits < 7 {
            number = number * 10 + Int(d)
            i += 1
            digits += 1
        }
        guard digits > 0 else { return nil }
        if i == key.endIndex { return ArgumentIndex(number: number, isLength: false) }
        if key[i...].equals("_len") { return ArgumentIndex(number: number, isLength: true) }
        if key[i] == UInt8(ascii: "["), key.last == UInt8(ascii: "]") { return ArgumentIndex(number: number, isLength: false) }
        return nil
    }
}

/// The command line from a PROCTITLE record: the process's argv as the kernel saw it in
/// its memory, NUL-separated and cut at 128 bytes by the kernel.
public enum ProcessTitle {
    public static func argv(_ record: AuditRecord) -> [Bytes]? {
        guard let title = record.string("proctitle") else { return nil }
        return UntrustedString.split(title, separator: 0)
    }
}
