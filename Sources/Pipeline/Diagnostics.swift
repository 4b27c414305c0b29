import Logging

/// nodeaudit's own messages, through swift-log to stderr (`StderrLogHandler`), never
/// mixed with events on stdout. Problems in the input are shown up to a limit and then
/// only counted, so a broken file cannot flood the terminal.
package final class Diagnostics {
    package private(set) var inputProblems: UInt64 = 0
    private let inputProblemLimit: UInt64
    private let quiet: Bool
    private let logger = Logger(label: "nodeaudit")

    package init(inputProblemLimit: UInt64 = 20, quiet: Bool = false) {
        self.inputProblemLimit = inputProblemLimit
        self.quiet = quiet
    }

    /// A problem with the input at `location` (`file:line`).
    package func inputProblem(_ location: String, _ message: String) {
        inputProblems += 1
        if inputProblems <= inputProblemLimit {
            logger.warning("\(location): \(message)")
        } else if inputProblems == inputProblemLimit + 1 {
            logger.warning("further input problems are counted, not shown")
        }
    }

    /// A one-line notice (statistics, progress); suppressed with `quiet`.
    package func notice(_ message: String) {
        if !quiet { logger.notice("\(message)") }
    }

    /// Something the user should know, that does not stop the work.
    package func warning(_ message: String) {
        logger.warning("\(message)")
    }

    /// An error the user must see.
    package func error(_ message: String) {
        logger.error("\(message)")
    }
}
