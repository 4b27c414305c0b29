import HostIO
#if canImport(Glibc)
import Glibc
#endif

/// What one `nodeaudit run` leaves for the next, in the state directory: the highest
/// serial it handed to its outputs and the kernel's `lost` counter, with the boot they
/// belong to. A new run compares them with what it sees first, so records lost while no
/// nodeaudit was reading (a restart, a crash, an update) are reported, never silent.
package struct StreamState: Equatable {
    /// The kernel's boot id: serials and the lost counter start again at every boot.
    package var boot: String
    package var highestSerialWritten: UInt64
    package var kernelLost: UInt32
    package var epochMilliseconds: UInt64

    /// `boot SERIAL LOST MS`, padded to a fixed size so that it is rewritten in place.
    /// Written byte by byte: it is saved after every flush and delivery, dozens of times a
    /// second, and string interpolation made that 2 % of a busy collector's CPU (perf).
    package var line: [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(Self.recordBytes)
        text.append(contentsOf: boot.utf8)
        Self.appendWord(highestSerialWritten, to: &text)
        Self.appendWord(UInt64(kernelLost), to: &text)
        Self.appendWord(epochMilliseconds, to: &text)
        text.append(0x0A)
        if text.count < Self.recordBytes { text.append(contentsOf: repeatElement(0x20, count: Self.recordBytes - text.count)) }
        return text
    }

    /// Appends a space and `value` in decimal.
    private static func appendWord(_ value: UInt64, to text: inout [UInt8]) {
        text.append(0x20)
        let start = text.count
        var rest = value
        repeat {
            text.append(UInt8(ascii: "0") &+ UInt8(rest % 10))
            rest /= 10
        } while rest > 0
        text[start...].reverse()
    }

    package static let recordBytes = 128

    package init(boot: String, highestSerialWritten: UInt64, kernelLost: UInt32, epochMilliseconds: UInt64) {
        self.boot = boot
        self.highestSerialWritten = highestSerialWritten
        self.kernelLost = kernelLost
        self.epochMilliseconds = epochMilliseconds
    }

    package init?(line: [UInt8]) {
        let words = line.split(whereSeparator: { $0 == 0x20 || $0 == 0x0A || $0 == 0 })
        guard words.count >= 4, let serial = UInt64(String(decoding: words[1], as: UTF8.self)),
              let lost = UInt32(String(decoding: words[2], as: UTF8.self)),
              let time = UInt64(String(decoding: words[3], as: UTF8.self)) else { return nil }
        self.init(boot: String(decoding: words[0], as: UTF8.self), highestSerialWritten: serial, kernelLost: lost, epochMilliseconds: time)
    }

    /// This boot's id, from the kernel.
    package static func currentBoot() -> String {
        let bytes = (try? HostFile.read("/proc/sys/kernel/random/boot_id")) ?? []
        let id = String(decoding: bytes.prefix { $0 != 0x0A }, as: UTF8.self)
        return id.isEmpty ? "unknown" : id
    }
}

/// The state file, kept open and rewritten in place after every flush of events (one
/// `pwrite` of 128 bytes; no fsync: a crash of the machine resets the serials anyway).
package final class StreamStateFile {
    package let path: String
    private let fd: Int32
    /// What the previous run left, read when this one opened the file.
    package let previous: StreamState?
    private var lastWritten: StreamState?

    package init(directory: String) throws(HostFile.FileError) {
        try HostFile.createDirectories(directory, mode: 0o700)
        path = directory + "/stream-state"
        previous = (try? HostFile.read(path)).flatMap(StreamState.init(line:))
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw HostFile.FileError(path: path, errno: errno) }
    }

    deinit { close(fd) }

    package func write(_ state: StreamState) {
        guard state != lastWritten else { return }
        lastWritten = state
        let line = state.line
        _ = line.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
}
