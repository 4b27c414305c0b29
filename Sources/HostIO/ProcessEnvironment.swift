import CLinux
#if canImport(Glibc)
import Glibc
#endif

/// The process's environment variables and its standard error, without Foundation (which
/// would bring ICU, tens of megabytes, into a binary that reads a few variables).
public enum ProcessEnvironment {
    /// Sets the allocator up for a long run, before any thread starts: large blocks
    /// (1 MiB and more) are returned to the system when freed (`nodeaudit_fix_mmap_threshold`).
    public static func prepareAllocator() {
        nodeaudit_fix_mmap_threshold()
    }

    /// Every `NAME=value` variable; a later one of the same name wins, as with getenv.
    public static var variables: [String: String] {
        var result: [String: String] = [:]
        var entry = environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") {
                result[String(text[..<equals])] = String(text[text.index(after: equals)...])
            }
            entry += 1
        }
        return result
    }

    /// Writes `text` to standard error, whole (a message, not an event).
    public static func writeToStandardError(_ text: String) {
        try? HostFile.writeAll(2, Array(text.utf8)[...], path: "stderr")
    }
}
