import HostIO
import KubernetesAudit
import Pipeline
#if canImport(Glibc)
import Glibc
#endif

/// Follows the API server's audit log (`k8s_audit.file`) on a thread of its own, as
/// `tail -F` would: through the API server's own rotation (renamed aside, a new file
/// opened) and copy-truncate, waiting while the file is missing, holding a partial last
/// line until its end comes. Lines go through an `APIAuditStream` into the inbox; the
/// position of the last line the outputs settled is kept in the state directory.
package final class APIAuditFileFollower: @unchecked Sendable {
    package struct Counters: Sendable, Equatable {
        package var stream = APIAuditStream.Counters()
        package var rotations: UInt64 = 0
        package var truncations: UInt64 = 0
        /// Bytes of a last line a rotated or truncated file ended without.
        package var partialBytesDropped: UInt64 = 0
    }

    private struct Checkpoints: Sendable {
        var pending: [(write: UInt64, position: FollowPosition)] = []
        var saved: FollowPosition?
    }

    private let path: String
    private let stateDirectory: String
    private let inbox: APIAuditInbox
    private let diagnostics: Diagnostics
    private var stream: APIAuditStream!
    /// What the stream encoded for the batch being read.
    private var batchLines: [UInt8] = []
    private let checkpoints = Monitor(Checkpoints())
    private let published = Monitor(Counters())
    private let stopSignal = Monitor(false)
    private var thread: WorkerThread?

    /// The file being read, where, and the file read to its end before it (what comes
    /// next is chosen from it: `FollowPosition.files(after:path:)`).
    private var fd: Int32 = -1
    private var stamp: FileStamp?
    private var offset: Int64 = 0
    private var finished: FileStamp?
    /// The first file and offset, at start.
    private var resumeAt: (path: String, offset: Int64)?
    private var partial: [UInt8] = []
    /// Bytes of an over-long line being skipped up to its newline.
    private var skipping = 0
    private var missingSaid = false
    private var rotationSeen = false
    private var counters = Counters()
    /// The read buffer, allocated when the thread starts.
    private var buffer: [UInt8] = []

    package static let pollMilliseconds = 200
    package static let chunkBytes = 1 << 20

    package init(path: String, stateDirectory: String, encoder: APIEventEncoder, selection: StageSelection, index: ExecRequestIndex?,
                 inbox: APIAuditInbox, diagnostics: Diagnostics) {
        self.path = path
        self.stateDirectory = stateDirectory
        self.inbox = inbox
        self.diagnostics = diagnostics
        stream = APIAuditStream(encoder: encoder, selection: selection, index: index,
                                write: { [unowned self] in batchLines += $0 },
                                problem: { [diagnostics] in diagnostics.inputProblem($0, $1) })
    }

    /// Where to begin: after the saved position (through the files rotated since), else
    /// at the end of the file as it is now (a first start does not replay the log's past).
    package func start() {
        if let saved = FollowPosition.load(directory: stateDirectory) {
            if let file = saved.file(at: path) {
                resumeAt = (file.path, file.offset)
                let rotated = FollowPosition.files(after: file.stamp, path: path).count - 1 + (file.path == path ? 0 : 1)
                if rotated > 0 {
                    diagnostics.notice("k8s-audit: \(path) was rotated since the last run: reading \(rotated) rotated files first")
                }
            } else {
                diagnostics.error("k8s-audit: the file of the saved position (\(saved)) is gone: reading \(path) from its start; "
                    + "events written between may be missing")
                resumeAt = (path, 0)
            }
            checkpoints.withLock { $0.saved = saved }
        } else if let current = FileStamp(path) {
            resumeAt = (path, current.size)
            // Kept at once: a run killed before its first line settled must not make the
            // next one start at the end again, past what was written meanwhile.
            let start = FollowPosition(device: current.device, inode: current.inode, offset: current.size)
            do throws(HostFile.FileError) { try start.save(directory: stateDirectory) } catch {
                diagnostics.error("k8s-audit: cannot keep the read position: \(error)")
            }
            checkpoints.withLock { $0.saved = start }
        } else {
            resumeAt = (path, 0)
        }
        // Opened now, before the caller says it follows the log: a rotation between here and
        // the thread's first read must not make it open the next file by name and skip this one.
        _ = openNext()
        thread = WorkerThread.start { [self] in run() }
    }

    /// Ends the thread once the batch it is reading is in the inbox.
    package func stop() {
        stopSignal.update { $0 = true }
        thread?.join()
        thread = nil
        if fd >= 0 { close(fd) }
        fd = -1
    }

    package var currentCounters: Counters { published.withLock { $0 } }

    /// Saves the position of the last line whose write the outputs settled (the read loop,
    /// after each flush and at stop).
    package func saveSettled(settledWrites: UInt64) {
        // Under the lock, file write included: the read loop and an output's thread both
        // save, and an older position must never be written after a newer one.
        checkpoints.withLock { state in
            var newest: FollowPosition?
            while let first = state.pending.first, first.write <= settledWrites {
                newest = first.position
                state.pending.removeFirst()
            }
            guard let newest, newest != state.saved else { return }
            state.saved = newest
            do throws(HostFile.FileError) { try newest.save(directory: stateDirectory) } catch {
                diagnostics.error("k8s-audit: cannot keep the read position: \(error)")
            }
        }
    }

    // MARK: - The thread

    private var stopped: Bool { stopSignal.withLock { $0 } }

    private func run() {
        while !stopped {
            if !readOnce() { stopSignal.pause(milliseconds: Self.pollMilliseconds) }
        }
    }

    /// Reads what is there; false when there was nothing (then the thread waits).
    private func readOnce() -> Bool {
        if fd < 0, !openNext() { return false }
        if buffer.isEmpty { buffer = [UInt8](repeating: 0, count: Self.chunkBytes) }
        let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, Self.chunkBytes, off_t(offset)) }
        if count > 0 {
            consume(buffer[..<count])
            offset += Int64(count)
            return deliver()
        }
        if count < 0, errno != EINTR {
            diagnostics.error("k8s-audit: reading \(path): \(SystemError.current)")
            return false
        }
        return atEnd()
    }

    /// Opens the file to read next: at start, the saved position's; after a file ended,
    /// the first written after it. False when there is none yet.
    private func openNext() -> Bool {
        // A rotation between choosing a file and opening it is seen and the choice made again.
        for _ in 0..<4 {
            let next: (path: String, offset: Int64)
            if let resumeAt {
                next = resumeAt
            } else if let finished {
                guard let first = FollowPosition.files(after: finished, path: path).first else { return false }
                next = (first, 0)
            } else {
                next = (path, 0)
            }
            let opened = open(next.path, O_RDONLY | O_CLOEXEC)
            guard opened >= 0 else {
                if !missingSaid {
                    diagnostics.notice("k8s-audit: \(next.path): \(SystemError.current); waiting for it")
                    missingSaid = true
                }
                return false
            }
            let openedStamp = FileStamp(descriptor: opened)
            if resumeAt == nil, let finished, let chosen = FollowPosition.files(after: finished, path: path).first,
               FileStamp(chosen)?.inode != openedStamp?.inode {
                close(opened)
                continue
            }
            missingSaid = false
            resumeAt = nil
            fd = opened
            stamp = openedStamp
            offset = next.offset
            partial.removeAll()
            skipping = 0
            rotationSeen = false
            return true
        }
        return false
    }

    /// At the end of the file: moves on when it is no longer the one at `path` (rotated
    /// aside; after one more read, for what the API server wrote before the rename),
    /// starts over when it was truncated.
    private func atEnd() -> Bool {
        if rotationSeen {
            finishFile()
            return true
        }
        if let stamp, FileStamp(path).map({ $0.inode != stamp.inode || $0.device != stamp.device }) ?? false {
            rotationSeen = true  // read once more, then switch
            counters.rotations += 1
            return true
        }
        if let now = FileStamp(descriptor: fd), now.size < offset {
            diagnostics.notice("k8s-audit: \(path) was truncated (copy-truncate rotation): reading it from its start")
            counters.truncations += 1
            counters.partialBytesDropped += UInt64(partial.count)
            partial.removeAll()
            skipping = 0
            offset = 0
            return true
        }
        return false
    }

    /// Closes the file read to its end; a last line without its newline is counted.
    private func finishFile() {
        finished = FileStamp(descriptor: fd) ?? stamp
        if !partial.isEmpty {
            counters.partialBytesDropped += UInt64(partial.count)
            diagnostics.inputProblem(path, "a rotated file ended inside a line (\(partial.count) bytes); skipped")
        }
        close(fd)
        fd = -1
        publish()
    }

    /// Splits bytes into lines for the stream; an incomplete last line waits in `partial`.
    private func consume(_ bytes: ArraySlice<UInt8>) {
        var start = bytes.startIndex
        while let newline = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) {
            if skipping > 0 {
                stream.addTooLong(bytes: skipping + (newline - start), location: path)
                skipping = 0
            } else if partial.isEmpty {
                add(bytes[start..<newline])
            } else {
                partial += bytes[start..<newline]
                add(partial[...])
                partial.removeAll(keepingCapacity: true)
            }
            start = newline + 1
        }
        let rest = bytes[start...]
        if skipping > 0 {
            skipping += rest.count
        } else if partial.count + rest.count > APIAuditStream.maximumLineBytes {
            skipping = partial.count + rest.count
            partial.removeAll()
        } else {
            partial += rest
        }
    }

    private func add(_ line: ArraySlice<UInt8>) {
        guard !line.isEmpty else { return }
        do {
            try stream.add(line, location: path)
        } catch {
            // The write closure appends to memory; it does not fail.
        }
    }

    /// Hands what was read to the inbox with the position after its last whole line.
    private func deliver() -> Bool {
        publish()
        guard !batchLines.isEmpty, let stamp else { return true }
        let position = FollowPosition(device: stamp.device, inode: stamp.inode, offset: offset - Int64(partial.count + skipping))
        let batch = APIAuditInbox.Batch(lines: batchLines) { [checkpoints] write in
            checkpoints.withLock { $0.pending.append((write, position)) }
        }
        batchLines.removeAll(keepingCapacity: true)
        // At stop the batch may stay unread: its position was not kept, the next run reads it.
        return inbox.put(batch, wait: true, cancelled: { stopped })
    }

    private func publish() {
        counters.stream = stream.counters
        published.withLock { [counters] in $0 = counters }
    }
}
