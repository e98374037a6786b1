#if canImport(Glibc)
import Glibc
#endif

/// Appends records to the newest segment of a queue's log. Used by one thread at a time (the
/// queue's flush queue); a write that fails is cut off again, so the file never keeps a record
/// whose caller was told it failed.
///
/// A new segment reuses the spare file when there is one (`SpareSegment`). In a reused file the
/// records are followed by an end marker, written with them, since the file's older contents lie
/// beyond.
final class SegmentWriter {
    private let files: SegmentFiles
    private let spare: SpareSegment
    private let segmentSize: Int
    private let sync: Bool
    private var fd: Int32
    private(set) var segmentFirst: UInt64
    private(set) var size: Int
    /// The file's length: more than `size` in a reused file.
    private var fileLength: Int
    private(set) var nextSequence: UInt64

    /// Opens segment `first` (creating it when absent) to append at `size`, the end of its last
    /// complete record.
    init(files: SegmentFiles, spare: SpareSegment, segment first: UInt64, size: Int, nextSequence: UInt64, segmentSize: Int,
         sync: Bool) throws(QueueFileError) {
        self.files = files
        self.spare = spare
        self.segmentSize = segmentSize
        self.sync = sync
        self.segmentFirst = first
        self.size = size
        self.nextSequence = nextSequence
        let path = files.path(ofSegment: first)
        fd = try Self.open(path)
        fileLength = size
        var info = stat()
        if fstat(fd, &info) == 0, Int(info.st_size) > size {
            fileLength = Int(info.st_size)
            try markEnd(at: size)
        }
    }

    /// Writes the end marker at `offset` (and syncs it when syncing), for a reused file.
    private func markEnd(at offset: Int) throws(QueueFileError) {
        let written = QueueRecord.endMarker.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard written == QueueRecord.headerSize, !sync || fdatasync(fd) == 0 else {
            throw QueueFileError(path: files.path(ofSegment: segmentFirst), operation: "write to", errno: written < 0 ? errno : EIO)
        }
        fileLength = max(fileLength, offset + QueueRecord.headerSize)
    }

    deinit { close(fd) }

    /// Linux's IOV_MAX: the most pieces one pwritev takes.
    private static let maxVectors = 1024

    private static func open(_ path: String) throws(QueueFileError) -> Int32 {
        let fd = Glibc.open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw QueueFileError(path: path, operation: "open", errno: errno) }
        return fd
    }

    /// Set when a write failed (a full disk, most often) and cleared by the next segment.
    private var writeFailed = false

    /// Writes `payloads` as consecutive records and syncs them (one sync for all: group commit).
    ///
    /// They go into a new segment when this one is full, or, after a failed write, once everything
    /// in this one was delivered (every record below `acknowledgedBelow`): its space is then given
    /// back before more is written, or a full disk would stay full after the queue drained. While
    /// writes succeed a segment is left only when full, because beginning one (a file created, the
    /// folder synced, the old one deleted) stalls every request waiting behind it.
    func append(_ payloads: [QueueRecord.Payload], acknowledgedBelow: UInt64) throws(QueueFileError) {
        if size > 0, size >= segmentSize || (writeFailed && acknowledgedBelow >= nextSequence) { try rotate() }
        var headers: [[UInt8]] = []
        headers.reserveCapacity(payloads.count)
        var sequence = nextSequence
        for payload in payloads {
            headers.append(QueueRecord.encode(.init(payloadLength: payload.length, sequence: sequence, items: payload.items, payloadCRC: payload.crc)))
            sequence += 1
        }
        var pieces: [[UInt8]] = []
        pieces.reserveCapacity(payloads.count * 3 + 1)
        for (header, payload) in zip(headers, payloads) {
            pieces.append(header)
            pieces.append(contentsOf: payload.parts)
        }
        let start = size
        let recordsLength = pieces.reduce(0) { $0 + $1.count }
        let marked = start + recordsLength < fileLength
        if marked { pieces.append(QueueRecord.endMarker) }
        do throws(QueueFileError) {
            let written = try write(pieces, at: start)
            if sync, fdatasync(fd) != 0 { throw QueueFileError(path: files.path(ofSegment: segmentFirst), operation: "sync", errno: errno) }
            size = start + recordsLength
            fileLength = max(fileLength, start + written)
            nextSequence = sequence
        } catch {
            // Cut back to the last record that was written and synced, so no caller that is told
            // "failed" finds its data delivered later from a half-written tail.
            _ = ftruncate(fd, off_t(start))
            fileLength = start
            writeFailed = true
            throw error
        }
    }

    private func write(_ pieces: [[UInt8]], at offset: Int) throws(QueueFileError) -> Int {
        var total = 0
        var index = 0
        while index < pieces.count {
            let end = min(pieces.count, index + Self.maxVectors)
            let chunk = pieces[index..<end]
            let expected = chunk.reduce(0) { $0 + $1.count }
            var done = 0
            while done < expected {
                let result = Self.pwritev(chunk, skipping: done, fd: fd, at: offset + total + done)
                guard result > 0 else {
                    throw QueueFileError(path: files.path(ofSegment: segmentFirst), operation: "write to", errno: result == 0 ? EIO : errno)
                }
                done += result
            }
            total += expected
            index = end
        }
        return total
    }

    /// One pwritev of `pieces` from byte `skip` on (after a short write).
    private static func pwritev(_ pieces: ArraySlice<[UInt8]>, skipping skip: Int, fd: Int32, at offset: Int) -> Int {
        var vectors: [iovec] = []
        vectors.reserveCapacity(pieces.count)
        var skip = skip
        return withExtendedLifetime(pieces) { () -> Int in
            for piece in pieces {
                if skip >= piece.count { skip -= piece.count; continue }
                // The arrays outlive the call (withExtendedLifetime), so their storage stays put.
                piece.withUnsafeBytes { raw in
                    vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: raw.baseAddress?.advanced(by: skip)), iov_len: raw.count - skip))
                }
                skip = 0
            }
            return Glibc.pwritev(fd, vectors, Int32(vectors.count), off_t(offset))
        }
    }

    /// Seals the current segment and starts the next one, named by the next sequence number, in
    /// the spare file when there is one.
    private func rotate() throws(QueueFileError) {
        if sync, fdatasync(fd) != 0 { throw QueueFileError(path: files.path(ofSegment: segmentFirst), operation: "sync", errno: errno) }
        let path = files.path(ofSegment: nextSequence)
        let reused = !writeFailed && spare.take(as: path)
        let next = try Self.open(path)
        close(fd)
        fd = next
        segmentFirst = nextSequence
        size = 0
        fileLength = 0
        writeFailed = false
        if reused {
            var info = stat()
            if fstat(fd, &info) == 0 { fileLength = Int(info.st_size) }
            if fileLength > 0 { try markEnd(at: 0) }
        }
        if sync { files.syncDirectory() }
    }
}
