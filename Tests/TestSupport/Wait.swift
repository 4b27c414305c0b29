import Foundation

/// Waiting for a condition instead of sleeping a guessed time: tests synchronise on what
/// they wait for (a count of events, a file's content, a counter, a port), with a
/// generous upper bound that only a real failure reaches.
public enum Wait {
    /// Polls `condition` every 20 ms until it holds or `seconds` pass; returns whether it held.
    @discardableResult
    public static func until(seconds: Double = 30, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            if try condition() { return true }
            if Date() >= deadline { return false }
            usleep(20_000)
        }
    }
}
