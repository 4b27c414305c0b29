#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// nodeaudit's own messages, on stderr and never mixed with events on stdout. Problems in
/// the input are shown up to a limit and then only counted, so a broken file cannot
/// flood the terminal.
public final class Diagnostics {
    public private(set) var inputProblems: UInt64 = 0
    private let inputProblemLimit: UInt64
    private let quiet: Bool

    public init(inputProblemLimit: UInt64 = 20, quiet: Bool = false) {
        self.inputProblemLimit = inputProblemLimit
        self.quiet = quiet
    }

    /// A problem with the input at `location` (`file:line`).
    public func inputProblem(_ location: String, _ message: String) {
        inputProblems += 1
        if inputProblems <= inputProblemLimit {
            emit("\(location): \(message)")
        } else if inputProblems == inputProblemLimit + 1 {
            emit("further input problems are counted, not shown")
        }
    }

    /// A one-line notice (statistics, progress); suppressed with `quiet`.
    public func notice(_ message: String) {
        if !quiet { emit(message) }
    }

    /// An error the user must see.
    public func error(_ message: String) {
        emit("error: \(message)")
    }

    private func emit(_ message: String) {
        let line = Array("nodeaudit: \(message)\n".utf8)
        line.withUnsafeBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}
