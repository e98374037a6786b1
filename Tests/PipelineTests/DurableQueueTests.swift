import Foundation
import OTLP
import Synchronization
import TestScratch
import Testing
@testable import Pipeline

/// The segment log behind `sending_queue.storage`: records written, read back in order,
/// acknowledged and deleted; recovery after truncation and damage.
@Suite struct DurableQueueTests {
    /// A fresh folder, removed when the test run ends.
    static func folder() -> String { TestScratch.folder("queue") }

    /// A one-span request whose span name carries `n`, so order and identity can be checked.
    static func batch(_ n: Int, headers: [String: [String]] = [:]) throws -> TelemetryBatch {
        try TelemetryBatch(signal: .traces, protobuf: request(spanName: "span-\(n)", traceByte: UInt8(n % 256)),
                           metadata: RequestMetadata(headers: headers))
    }

    static func request(spanName: String, traceByte: UInt8 = 0) throws -> [UInt8] {
        var span = Opentelemetry_Proto_Trace_V1_Span()
        span.traceID = Data(repeating: traceByte, count: 16)
        span.spanID = Data(repeating: 1, count: 8)
        span.name = spanName
        var scope = Opentelemetry_Proto_Trace_V1_ScopeSpans()
        scope.spans = [span]
        var resource = Opentelemetry_Proto_Trace_V1_ResourceSpans()
        resource.scopeSpans = [scope]
        var request = Opentelemetry_Proto_Collector_Trace_V1_ExportTraceServiceRequest()
        request.resourceSpans = [resource]
        return Array(try request.serializedData())
    }

    static func name(_ item: QueuedBatch) throws -> String {
        var batch = item.batch
        guard case .traces(let request) = try batch.model() else { return "" }
        return request.resourceSpans.first?.scopeSpans.first?.spans.first?.name ?? ""
    }

    /// Damage reports a queue made, for checking what it counted.
    final class Reports: Sendable {
        let entries = Mutex<[(items: Int, message: String)]>([])
        var all: [(items: Int, message: String)] { entries.withLock { $0 } }
        func add(_ items: Int, _ message: String) { entries.withLock { $0.append((items, message)) } }
    }

    static func open(_ directory: String, capacity: Int = 1000, sizer: SendingQueueSettings.Sizer = .requests,
                     segmentSize: Int = 32 << 20, reports: Reports = Reports()) throws -> DurableQueue {
        try DurableQueue(options: DurableQueueOptions(directory: directory, segmentSize: segmentSize), sizer: sizer, capacity: capacity) { items, message in
            reports.add(items, message)
        }
    }

    /// Takes what the queue has now, without waiting for more.
    static func takeAvailable(_ queue: DurableQueue, limit: Int = 10_000) async throws -> [QueuedBatch] {
        var taken: [QueuedBatch] = []
        while taken.count < limit, queue.hasReadable {
            guard let item = await queue.take() else { break }
            taken.append(item)
        }
        return taken
    }

    @Test func recordsComeBackInOrderWithTheirMetadata() async throws {
        let directory = Self.folder()
        let queue = try Self.open(directory)
        for n in 0..<50 { try await queue.offer(try Self.batch(n, headers: ["tenant": ["t\(n)"]]), block: false) }
        #expect(queue.used == 50)
        let items = try await Self.takeAvailable(queue)
        #expect(try items.map(Self.name) == (0..<50).map { "span-\($0)" })
        #expect(items.map(\.batch.metadata.headers) == (0..<50).map { ["tenant": ["t\($0)"]] })
        #expect(items.allSatisfy { $0.batch.itemCount == 1 })
        for item in items { queue.done(item) }
        #expect(queue.used == 0)
        queue.close()
        await queue.release()
        let reopened = try Self.open(directory)
        #expect(reopened.used == 0)
        #expect(try await Self.takeAvailable(reopened).isEmpty)
    }

    @Test func undeliveredRecordsAreDeliveredAgainAfterReopen() async throws {
        let directory = Self.folder()
        let queue = try Self.open(directory)
        for n in 0..<10 { try await queue.offer(try Self.batch(n), block: false) }
        let items = try await Self.takeAvailable(queue)
        // 0–3 done in order, 6 done out of order: the position stays at 4, so 4–9 come again.
        for index in [0, 1, 2, 3, 6] { queue.done(items[index]) }
        queue.close()
        await queue.release()
        let reopened = try Self.open(directory)
        #expect(reopened.used == 6)
        let again = try await Self.takeAvailable(reopened)
        #expect(try again.map(Self.name) == (4..<10).map { "span-\($0)" })
        // New records continue the sequence after the old ones.
        try await reopened.offer(try Self.batch(99), block: false)
        let next = try await Self.takeAvailable(reopened)
        #expect(try next.map(Self.name) == ["span-99"])
        #expect(next[0].sequence == 10)
    }

    @Test func segmentsRotateAndAreDeletedOnceDelivered() async throws {
        let directory = Self.folder()
        let queue = try Self.open(directory, segmentSize: 1000)
        for n in 0..<100 { try await queue.offer(try Self.batch(n), block: false) }
        let segments = { try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("segment-") } }
        #expect(try segments().count > 5)
        let diskBefore = queue.bytesOnDisk ?? 0
        let items = try await Self.takeAvailable(queue)
        #expect(items.count == 100)
        for item in items { queue.done(item) }
        await queue.settle()
        #expect(try segments().count == 1, "only the segment being written is kept")
        #expect((queue.bytesOnDisk ?? 0) < diskBefore)
    }

    static func inode(_ path: String) -> UInt64? {
        var info = stat()
        return stat(path, &info) == 0 ? UInt64(info.st_ino) : nil
    }

    static func segmentInodes(_ directory: String) throws -> Set<UInt64> {
        Set(try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix("segment-") }
            .compactMap { inode(directory + "/" + $0) })
    }

    /// Fills a queue with small segments and delivers everything; then writes and delivers
    /// records until a new segment is begun in the spare file, and writes `more` records there.
    /// Returns the queue and those records, taken.
    static func reusedSegment(_ directory: String, more: Range<Int>, reports: Reports) async throws -> (DurableQueue, [QueuedBatch]) {
        let queue = try open(directory, segmentSize: 2000, reports: reports)
        for n in 0..<40 { try await queue.offer(try batch(n), block: false) }
        for item in try await takeAvailable(queue) { queue.done(item) }
        await queue.settle()
        let spare = try #require(inode(directory + "/spare-segment"), "a delivered full segment is kept")
        var filler = 1000
        while try !segmentInodes(directory).contains(spare) {
            try #require(filler < 1100, "no new segment was begun in the spare file")
            try await queue.offer(try batch(filler), block: false)
            filler += 1
        }
        for item in try await takeAvailable(queue) { queue.done(item) }
        for n in more { try await queue.offer(try batch(n), block: false) }
        return (queue, try await takeAvailable(queue))
    }

    /// `reusedSegment` with records 40–44, the queue then closed; the folder and its last segment.
    static func closedAfterReuse(_ directory: String, reports: Reports) async throws -> (SegmentFiles, UInt64) {
        let (queue, items) = try await reusedSegment(directory, more: 40..<45, reports: reports)
        #expect(items.count == 5)
        queue.close()
        await queue.release()
        let files = SegmentFiles(directory: directory)
        return (files, try #require(try files.segments().last))
    }

    static func overwrite(_ path: String, at offset: Int, with bytes: [UInt8]) throws {
        let fd = Foundation.open(path, O_WRONLY)
        try #require(fd >= 0)
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(offset)) }
        try #require(written == bytes.count)
    }

    @Test func aReusedSegmentHandsOutOnlyItsNewRecords() async throws {
        let directory = Self.folder()
        let reports = Reports()
        let (queue, items) = try await Self.reusedSegment(directory, more: 40..<80, reports: reports)
        #expect(try items.map(Self.name) == (40..<80).map { "span-\($0)" })
        for item in items.prefix(30) { queue.done(item) }
        queue.close()
        await queue.release()
        let reopened = try Self.open(directory, segmentSize: 2000, reports: reports)
        #expect(reopened.recovered.tornBytes == nil, "the older records past the new ones are not a torn tail")
        #expect(reopened.used == 10)
        #expect(try await Self.takeAvailable(reopened).map(Self.name) == (70..<80).map { "span-\($0)" })
        try await reopened.offer(try Self.batch(99), block: false)
        #expect(try await Self.takeAvailable(reopened).map(Self.name) == ["span-99"])
        #expect(reports.all.isEmpty)
    }

    @Test func aReusedSegmentWithoutItsEndMarkerEndsAtTheFirstOlderRecord() async throws {
        // A crash between taking the spare and marking its start leaves a segment that holds only
        // records numbered below it.
        let directory = Self.folder()
        let reports = Reports()
        let (files, last) = try await Self.closedAfterReuse(directory, reports: reports)
        // The segment's start, overwritten with a record of the file's earlier life.
        try Self.overwrite(files.path(ofSegment: last), at: 0,
                           with: QueueRecord.encode(.init(payloadLength: 0, sequence: last - 1, items: 1, payloadCRC: 0)))
        let reopened = try Self.open(directory, segmentSize: 2000, reports: reports)
        #expect(reopened.recovered.tornBytes == nil)
        #expect(reopened.recovered.records == 0, "records 40-44 were in that segment, whose start was written over")
        #expect(try await Self.takeAvailable(reopened).isEmpty)
    }

    @Test func aTornRecordInAReusedSegmentIsCutOffAndCounted() async throws {
        let directory = Self.folder()
        let reports = Reports()
        let (files, last) = try await Self.closedAfterReuse(directory, reports: reports)
        // Where the end marker is: after the records of this segment.
        let bytes = try #require(FileManager.default.contents(atPath: files.path(ofSegment: last)))
        var end = 0
        while let header = bytes.withUnsafeBytes({ QueueRecord.decodeHeader(UnsafeRawBufferPointer(rebasing: $0[end...])) }),
              header.sequence >= last {
            end += header.frameLength
        }
        #expect(bytes.count > end + QueueRecord.headerSize, "the reused file goes on past its new records")
        try Self.overwrite(files.path(ofSegment: last), at: end,
                           with: Array(QueueRecord.encode(.init(payloadLength: 500, sequence: 45, items: 3, payloadCRC: 7)).prefix(20)))
        let reopened = try Self.open(directory, segmentSize: 2000, reports: reports)
        #expect(reopened.recovered.tornBytes != nil)
        #expect(reopened.recovered.records == 5)
        #expect(try await Self.takeAvailable(reopened).map(Self.name) == (40..<45).map { "span-\($0)" })
    }

    @Test func fullQueueRefusesAtOnceAndBlockingWaitsForRoom() async throws {
        let queue = try Self.open(Self.folder(), capacity: 2)
        try await queue.offer(try Self.batch(0), block: false)
        try await queue.offer(try Self.batch(1), block: false)
        await #expect(throws: QueueCapacity.Refusal.full) { try await queue.offer(try Self.batch(2), block: false) }
        let blocked = Task { try await queue.offer(try Self.batch(3), block: true) }
        let first = try #require(await queue.take())
        queue.done(first)
        try await blocked.value
        let rest = try await Self.takeAvailable(queue)
        #expect(try rest.map(Self.name) == ["span-1", "span-3"])
    }

    @Test func itemsAndBytesSizers() async throws {
        let byItems = try Self.open(Self.folder(), capacity: 3, sizer: .items)
        try await byItems.offer(try Self.batch(0), block: false)
        #expect(byItems.used == 1)
        let byBytes = try Self.open(Self.folder(), capacity: 100_000, sizer: .bytes)
        try await byBytes.offer(try Self.batch(0), block: false)
        #expect(byBytes.used > 30)
    }

    @Test func secondOpenOfAFolderIsRefusedNamingIt() throws {
        let directory = Self.folder()
        let first = try Self.open(directory)
        do {
            _ = try DurableQueue(options: DurableQueueOptions(directory: directory, lockTimeout: .milliseconds(50)), sizer: .requests, capacity: 10) { _, _ in }
            Issue.record("a second queue opened the same folder")
        } catch {
            #expect("\(error)".contains(directory))
            #expect("\(error)".contains("another process"))
        }
        withExtendedLifetime(first) {}
    }

    @Test func aFolderThatCannotBeMadeIsReportedWithItsPath() throws {
        let file = Self.folder() + "/plain-file"
        FileManager.default.createFile(atPath: file, contents: Data("x".utf8))
        do {
            _ = try Self.open(file + "/queue")
            Issue.record("opened a queue below a regular file")
        } catch {
            #expect("\(error)".contains(file + "/queue"))
        }
    }

    /// Writes `count` records into a fresh folder and returns it with the segment's path and the
    /// byte offsets at which records end.
    static func smallLog(_ count: Int) async throws -> (directory: String, segment: String, ends: [Int]) {
        let directory = folder()
        let queue = try open(directory)
        var ends: [Int] = []
        for n in 0..<count {
            try await queue.offer(try batch(n), block: false)
            ends.append(queue.bytesOnDisk ?? 0)
        }
        queue.close()
        await queue.release()
        let segment = try #require(try FileManager.default.contentsOfDirectory(atPath: directory).first { $0.hasPrefix("segment-") })
        return (directory, directory + "/" + segment, ends)
    }

    @Test func recoveryFromATruncationAtEveryByte() async throws {
        let (directory, segment, ends) = try await Self.smallLog(3)
        let original = try Data(contentsOf: URL(fileURLWithPath: segment))
        #expect(original.count == ends.last)
        for cut in 0...original.count {
            let copy = Self.folder()
            try FileManager.default.copyItem(atPath: directory + "/ack", toPath: copy + "/ack")
            try original.prefix(cut).write(to: URL(fileURLWithPath: copy + "/" + URL(fileURLWithPath: segment).lastPathComponent))
            let reports = Reports()
            let queue = try Self.open(copy, reports: reports)
            let complete = ends.filter { $0 <= cut }.count
            let items = try await Self.takeAvailable(queue)
            #expect(try items.map(Self.name) == (0..<complete).map { "span-\($0)" }, "cut at \(cut)")
            let onBoundary = cut == 0 || ends.contains(cut)
            #expect(reports.all.count == (onBoundary ? 0 : 1), "cut at \(cut): \(reports.all)")
            if !onBoundary {
                let start = complete == 0 ? 0 : ends[complete - 1]
                // The item count is known when the torn record's header survived.
                #expect(reports.all[0].items == (cut - start >= QueueRecord.headerSize ? 1 : 0), "cut at \(cut)")
            }
            // The torn tail was cut off: the next record follows the last complete one.
            try await queue.offer(try Self.batch(7), block: false)
            let next = try await Self.takeAvailable(queue)
            #expect(try next.map(Self.name) == ["span-7"], "cut at \(cut)")
            queue.close()
            await queue.release()
            let third = try Self.open(copy)
            #expect(third.used == complete + 1, "cut at \(cut)")
        }
    }

    @Test func aChecksumMismatchInTheMiddleLosesOnlyThatRecord() async throws {
        let (directory, segment, ends) = try await Self.smallLog(3)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        bytes[ends[0] + QueueRecord.headerSize + 10] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: segment))
        let reports = Reports()
        let queue = try Self.open(directory, reports: reports)
        #expect(queue.used == 3)
        let items = try await Self.takeAvailable(queue)
        #expect(try items.map(Self.name) == ["span-0", "span-2"])
        #expect(reports.all.map(\.items) == [1])
        #expect(reports.all[0].message.contains("checksum"))
        for item in items { queue.done(item) }
        #expect(queue.used == 0)
    }

    @Test func aDamagedHeaderInTheMiddleIsSearchedPast() async throws {
        let (directory, segment, ends) = try await Self.smallLog(3)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: segment))
        bytes[ends[0] + 9] ^= 0xFF
        try bytes.write(to: URL(fileURLWithPath: segment))
        let reports = Reports()
        let queue = try Self.open(directory, reports: reports)
        let items = try await Self.takeAvailable(queue)
        #expect(try items.map(Self.name) == ["span-0", "span-2"])
        #expect(reports.all.count == 1)
        #expect(reports.all[0].message.contains("\(ends[1] - ends[0]) damaged bytes"))
        for item in items { queue.done(item) }
        #expect(queue.used == 0)
        queue.close()
        await queue.release()
        #expect(try Self.open(directory).used == 0, "the lost record's number was acknowledged with the rest")
    }

    @Test func headerEncodingRoundTrips() {
        let header = QueueRecord.Header(payloadLength: 1234, sequence: 1 << 40, items: 77, payloadCRC: 0xDEADBEEF)
        let bytes = QueueRecord.encode(header)
        #expect(bytes.count == QueueRecord.headerSize)
        #expect(bytes.withUnsafeBytes { QueueRecord.decodeHeader($0) } == header)
        var damaged = bytes
        damaged[12] ^= 1
        #expect(damaged.withUnsafeBytes { QueueRecord.decodeHeader($0) } == nil)
    }
}
