#if canImport(Glibc)
import Glibc
#endif

/// Reads a queue's log forward, record by record, across segments. A record whose checksum does
/// not hold is reported and passed over; a damaged header makes the reader search forward for the
/// next header that checks out, so every intact record after damage is still read.
///
/// A segment's records end at the end of its file, or, in a reused file, at an end marker (zeros)
/// or at a record numbered below the segment's first: what follows is the file's earlier life.
final class SegmentReader {
    enum Step: Equatable {
        case record(QueueRecord.Header, [UInt8])
        /// Bytes that are not a sound record: `header` when the header held but the payload did not.
        case damaged(header: QueueRecord.Header?, bytes: Int)
        /// Nothing more to read for now.
        case end
    }

    private let files: SegmentFiles
    private var fd: Int32 = -1
    private(set) var segment: UInt64
    private(set) var offset: Int
    /// Whether the last `.end` was at the end of a segment's records rather than at damage.
    private(set) var endedCleanly = false

    init(files: SegmentFiles, segment: UInt64, offset: Int) {
        self.files = files
        self.segment = segment
        self.offset = offset
    }

    deinit { if fd >= 0 { close(fd) } }

    /// The next step; `segments` is the current list of segment first numbers, `verify` whether
    /// payload checksums are checked (recovery of older segments reads headers only).
    func next(segments: [UInt64], verify: Bool = true) -> Step {
        endedCleanly = false
        while true {
            guard openCurrent() else {
                if moveOn(segments) { continue }
                return .end
            }
            var header = [UInt8](repeating: 0, count: QueueRecord.headerSize)
            let got = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, QueueRecord.headerSize, off_t(offset)) }
            let rest = max(0, got)
            // Zeros, whole or cut short by the file's end, mark the end of the records.
            let marker = header.withUnsafeBytes { QueueRecord.isZero(UnsafeRawBufferPointer(rebasing: $0[0..<rest])) }
            if got < QueueRecord.headerSize || marker {
                // The end of this segment's data: go on to the next segment if there is one.
                guard moveOn(segments) else {
                    endedCleanly = marker
                    return .end
                }
                if !marker { return .damaged(header: nil, bytes: rest) }
                continue
            }
            let decoded = header.withUnsafeBytes { QueueRecord.decodeHeader($0) }
            if let decoded, decoded.sequence < segment {
                guard moveOn(segments) else {
                    endedCleanly = true
                    return .end
                }
                continue
            }
            guard let decoded else {
                let skipped = resync()
                if skipped > 0 { return .damaged(header: nil, bytes: skipped) }
                let rest = files.size(ofSegment: segment) - offset
                guard moveOn(segments) else { return .end }
                return .damaged(header: nil, bytes: rest)
            }
            guard verify || decoded.payloadLength == 0 else {
                guard offset + decoded.frameLength <= files.size(ofSegment: segment) else { return truncatedOrMove(decoded, segments) }
                offset += decoded.frameLength
                return .record(decoded, [])
            }
            var payload = [UInt8](repeating: 0, count: decoded.payloadLength)
            let read = payload.withUnsafeMutableBytes { pread(fd, $0.baseAddress, decoded.payloadLength, off_t(offset + QueueRecord.headerSize)) }
            guard read == decoded.payloadLength else { return truncatedOrMove(decoded, segments) }
            let check = payload.withUnsafeBytes { QueueRecord.crc($0) }
            guard check == decoded.payloadCRC else {
                // The header is sound, so its length is trusted to step over the payload; if the
                // next header does not hold either, the search above takes over.
                offset += decoded.frameLength
                return .damaged(header: decoded, bytes: decoded.frameLength)
            }
            offset += decoded.frameLength
            return .record(decoded, payload)
        }
    }

    /// A header whose payload runs past the end of its file: a torn write at the end of the log,
    /// or damage in a sealed segment (then the rest of that segment is lost).
    private func truncatedOrMove(_ header: QueueRecord.Header, _ segments: [UInt64]) -> Step {
        let rest = files.size(ofSegment: segment) - offset
        guard moveOn(segments) else { return .end }
        return .damaged(header: header, bytes: rest)
    }

    /// Searches forward from the current offset for a header that checks out; returns the bytes
    /// passed over (0 when none was found in this segment).
    private func resync() -> Int {
        let fileSize = files.size(ofSegment: segment)
        var position = offset + 1
        let window = 1 << 20
        var buffer = [UInt8](repeating: 0, count: window + QueueRecord.headerSize)
        while position + QueueRecord.headerSize <= fileSize {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            guard count >= QueueRecord.headerSize else { return 0 }
            let found: Int? = buffer.withUnsafeBytes { raw in
                for start in 0...(count - QueueRecord.headerSize) where raw[start] == 0x4F {
                    // A record numbered below the segment is left from the file's earlier life.
                    if let found = QueueRecord.decodeHeader(UnsafeRawBufferPointer(rebasing: raw[start..<(start + QueueRecord.headerSize)])),
                       found.sequence >= segment {
                        return start
                    }
                }
                return nil
            }
            if let found {
                let skipped = position + found - offset
                offset = position + found
                return skipped
            }
            position += count - QueueRecord.headerSize + 1
        }
        return 0
    }

    /// Closes the file of a segment that was deleted, so its space is given back now rather than
    /// when the reader next moves.
    func forget(_ removed: [UInt64]) {
        guard fd >= 0, removed.contains(segment) else { return }
        close(fd)
        fd = -1
    }

    private func openCurrent() -> Bool {
        if fd >= 0 { return true }
        fd = open(files.path(ofSegment: segment), O_RDONLY | O_CLOEXEC)
        return fd >= 0
    }

    /// Steps to the segment after the current one, if the list has one.
    private func moveOn(_ segments: [UInt64]) -> Bool {
        guard let next = segments.first(where: { $0 > segment }) else { return false }
        if fd >= 0 { close(fd) }
        fd = -1
        segment = next
        offset = 0
        return true
    }
}
