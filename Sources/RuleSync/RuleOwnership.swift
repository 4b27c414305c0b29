import HostIO
import AuditRules
#if canImport(Glibc)
import Glibc
#endif

/// The kernel rules nodeaudit loaded on this node and the settings it found before it
/// changed them, kept in a file of the state directory: a restart or a reload removes
/// only rules that nodeaudit loaded and its files no longer name, other tools' rules
/// stay, and an uninstall (`rules delete --all-owned`) puts the node back as it was.
///
/// Rules are kept in `auditctl -l` form, the form the kernel lists them in, so they are
/// found again whatever the rule files looked like when they were loaded.
package struct RuleOwnership {
    package static let fileName = "owned-rules"
    package let path: String
    /// Rules nodeaudit added and has not removed, in the order it added them.
    package private(set) var rules: [String] = []
    /// Each setting's value before nodeaudit first changed it.
    package private(set) var settingsFound: [(name: String, value: UInt32)] = []

    package struct RecordError: Error, CustomStringConvertible {
        package var description: String
    }

    /// Reads the record in `directory`; a missing file is an empty record.
    package init(directory: String) throws(RecordError) {
        path = Self.path(in: directory)
        let bytes: [UInt8]
        do throws(HostFile.FileError) {
            bytes = try HostFile.read(path)
        } catch {
            if error.errno == ENOENT { return }
            throw RecordError(description: "\(path): \(error)")
        }
        var lineNumber = 0
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if let rule = line.afterPrefix("rule ") {
                rules.append(String(rule))
            } else if let setting = line.afterPrefix("setting "), case let words = setting.split(separator: " "),
                      words.count == 2, let value = UInt32(words[1]) {
                settingsFound.append((String(words[0]), value))
            } else {
                throw RecordError(description: "\(path):\(lineNumber): not a line of nodeaudit's ownership record: '\(line.prefix(200))'")
            }
        }
    }

    package var ownedRules: Set<String> { Set(rules) }
    package var isEmpty: Bool { rules.isEmpty && settingsFound.isEmpty }

    package mutating func added(_ text: String) {
        // A rule text never holds a newline (rule files are split at them); one that did
        // could not be written back as one line, so it is not claimed.
        guard !text.contains("\n"), !rules.contains(text) else { return }
        rules.append(text)
    }

    package mutating func removed(_ text: String) {
        rules.removeAll { $0 == text }
    }

    /// Notes a setting's value before nodeaudit changes it; only the first one counts.
    package mutating func changing(_ name: String, from value: UInt32) {
        guard !settingsFound.contains(where: { $0.name == name }) else { return }
        settingsFound.append((name, value))
    }

    /// Forgets everything (after an uninstall put it all back).
    package mutating func clear() {
        rules = []
        settingsFound = []
    }

    /// The record file as a trial run (`run --cleanup`) found it: the run keeps the record
    /// while it runs (a reload removes the rules it loaded that left its files), and at
    /// exit, when the kernel is put back, the record is put back too.
    package struct Snapshot {
        package let path: String
        /// The file's bytes; nil when there was none.
        package let bytes: [UInt8]?
        /// The file could not be read (other than missing): it is left alone.
        package let unreadable: Bool

        package init(directory: String) {
            path = RuleOwnership.path(in: directory)
            do throws(HostFile.FileError) {
                bytes = try HostFile.read(path)
                unreadable = false
            } catch {
                bytes = nil
                unreadable = error.errno != ENOENT
            }
        }

        package func restore() throws(RecordError) {
            guard !unreadable else { return }
            do throws(HostFile.FileError) {
                if let bytes { try HostFile.write(bytes, to: path, mode: 0o600) } else if unlink(path) != 0, errno != ENOENT {
                    throw HostFile.FileError(path: path, errno: errno)
                }
            } catch {
                throw RecordError(description: "\(path): \(error)")
            }
        }
    }

    package static func path(in directory: String) -> String {
        (directory.hasSuffix("/") ? directory : directory + "/") + fileName
    }

    /// Writes the record (a new file renamed over the old), or removes it when empty.
    package func save() throws(RecordError) {
        if isEmpty {
            if unlink(path) != 0, errno != ENOENT { throw RecordError(description: "\(path): \(SystemError.current)") }
            return
        }
        var text = "# nodeaudit: audit rules it loaded and settings it found; `nodeaudit rules delete --all-owned` puts them back\n"
        for (name, value) in settingsFound { text += "setting \(name) \(value)\n" }
        for rule in rules { text += "rule \(rule)\n" }
        do throws(HostFile.FileError) {
            try HostFile.createDirectories(String(path[..<path.lastIndex(of: "/")!]))
            try HostFile.write(Array(text.utf8), to: path, mode: 0o600)
        } catch {
            throw RecordError(description: "\(path): \(error)")
        }
    }
}

private extension Substring {
    func afterPrefix(_ prefix: String) -> Substring? {
        hasPrefix(prefix) ? dropFirst(prefix.count) : nil
    }
}
