#if canImport(Glibc)
import Glibc
#endif

/// What a queue's log holds when it is opened: where undelivered records start, where the next
/// record goes, and how much is waiting. A torn record at the very end (a write cut short by a
/// crash; never acknowledged to anyone, since acknowledgement follows the sync) is cut off.
struct RecoveredLog {
    var segments: [UInt64]
    var ackPosition: UInt64
    var nextSequence: UInt64
    /// Where handing out starts: the first segment's start (records below the position are passed over).
    var readerSegment: UInt64
    var readerOffset: Int
    var lastSegmentSize: Int
    var records = 0
    var used = 0
    /// The cut-off tail: its bytes, and its item count when its header survived.
    var torn: (bytes: Int, items: Int?)?

    static func recover(_ files: SegmentFiles, ack: AckFile, sizer: SendingQueueSettings.Sizer) throws(QueueFileError) -> RecoveredLog {
        var segments = try files.segments()
        let stored = ack.read()
        guard let firstSegment = segments.first else {
            let start = stored ?? 0
            return RecoveredLog(segments: [start], ackPosition: start, nextSequence: start, readerSegment: start, readerOffset: 0, lastSegmentSize: 0)
        }
        let ackPosition = max(stored ?? firstSegment, firstSegment)
        // Segments whose successor starts at or below the position hold only delivered records.
        while segments.count > 1, segments[1] <= ackPosition {
            unlink(files.path(ofSegment: segments.removeFirst()))
        }
        guard let last = segments.last else { throw QueueFileError(path: files.directory, operation: "recover", detail: "no segment left") }
        var log = RecoveredLog(segments: segments, ackPosition: ackPosition, nextSequence: ackPosition,
                               readerSegment: last, readerOffset: 0, lastSegmentSize: 0)
        // The reader that hands records out later starts where this scan starts and meets the
        // same steps, so the sizes counted here are exactly the sizes it gives back.
        var highest: UInt64?
        let reader = SegmentReader(files: files, segment: segments[0], offset: 0)
        scan: while true {
            switch reader.next(segments: segments, verify: reader.segment == last) {
            case .end:
                break scan
            case .record(let header, _), .damaged(header: let header?, bytes: _):
                highest = max(highest ?? 0, header.sequence)
                guard header.sequence >= ackPosition else { continue }
                log.records += 1
                log.used += sizer.measure(items: header.items, bytes: header.payloadLength)
            case .damaged(header: nil, bytes: _):
                continue
            }
        }
        let fileSize = files.size(ofSegment: last)
        var end = fileSize
        if reader.segment == last, reader.offset < fileSize {
            end = reader.offset
        }
        // Past the records of a reused file lies its earlier life, not damage; the writer puts
        // an end marker there before it goes on.
        if end < fileSize, !reader.endedCleanly {
            log.torn = (fileSize - end, tornItems(files, last, at: end))
            let fd = open(files.path(ofSegment: last), O_WRONLY | O_CLOEXEC)
            guard fd >= 0, ftruncate(fd, off_t(end)) == 0 else {
                let code = errno
                if fd >= 0 { close(fd) }
                throw QueueFileError(path: files.path(ofSegment: last), operation: "cut the torn tail of", errno: code)
            }
            _ = fdatasync(fd)
            close(fd)
        }
        log.lastSegmentSize = end
        log.nextSequence = max(highest.map { $0 + 1 } ?? 0, last, ackPosition)
        log.readerSegment = segments[0]
        log.readerOffset = 0
        return log
    }

    private static func tornItems(_ files: SegmentFiles, _ segment: UInt64, at offset: Int) -> Int? {
        let fd = open(files.path(ofSegment: segment), O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: QueueRecord.headerSize)
        let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, QueueRecord.headerSize, off_t(offset)) }
        guard got == QueueRecord.headerSize else { return nil }
        return header.withUnsafeBytes { QueueRecord.decodeHeader($0) }?.items
    }
}
