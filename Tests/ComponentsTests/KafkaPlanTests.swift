import Foundation
import OTLP
import Testing
@testable import Components

/// `kafka-plan`'s arithmetic against cases worked out by hand, and the sample measurement.
@Suite struct KafkaPlanTests {
    @Test func spansAndLogsOverASixHourOutage() {
        // 250k items/s read again within 6 h after a 6 h outage: 500k/s, so 2 backends of 400k/s.
        // Retention: (6 h + 6 h) × 1.25 = 15 h. Spans: 200k × 400 B × 0.2 = 16 MB/s, 2 partitions by
        // rate and by backends, 3 with 3 brokers; 16 MB/s × 54,000 s ÷ 3 = 288 GB per partition.
        // Disk: (16 + 4) MB/s × 54,000 s × 3 replicas × 1.1 ÷ 3 brokers = 1,188 GB.
        let result = KafkaPlan(loads: [
            .init(signal: .traces, itemsPerSecond: 200_000, itemBytes: 400, compressionRatio: 0.2),
            .init(signal: .logs, itemsPerSecond: 50_000, itemBytes: 400, compressionRatio: 0.2),
        ], outage: .seconds(6 * 3600)).plan()
        #expect(result.backends == 2)
        #expect(result.retentionSeconds == 54_000)
        #expect(result.topics == [
            .init(signal: .traces, partitions: 3, bytesPerSecond: 16_000_000, retentionBytesPerPartition: 288_000_000_000),
            .init(signal: .logs, partitions: 3, bytesPerSecond: 4_000_000, retentionBytesPerPartition: 72_000_000_000),
        ])
        #expect(abs(result.diskPerBroker - 1_188_000_000_000) < 1)
        #expect(result.lines.count == 5)
    }

    @Test func aHighRateNeedsPartitionsForItsBytesAndMoreBackends() {
        // 2M spans/s of 1 kB at 0.3: 600 MB/s → 60 partitions by rate; a 1 h catch-up after a 4 h
        // outage reads 2M × 5 = 10M/s → 25 backends. Retention (4 + 1) × 1.25 = 6.25 → 7 h.
        let result = KafkaPlan(loads: [.init(signal: .traces, itemsPerSecond: 2_000_000, itemBytes: 1000, compressionRatio: 0.3)],
                               outage: .seconds(4 * 3600), catchUp: .seconds(3600), replication: 2, brokers: 6).plan()
        #expect(result.backends == 25)
        #expect(result.retentionSeconds == 7 * 3600)
        #expect(result.topics.map(\.partitions) == [60])
        #expect(result.diskPerBroker == 600_000_000 * 25_200 * 2 * 1.1 / 6)
    }

    @Test func aLoadGivenInBytesBecomesItemsByTheItemSize() {
        // 40 MB/s of spans of 400 B: 100k spans/s; a 2 h outage and catch-up read 200k/s, 1
        // backend. At 0.25 compressed, 10 MB/s: 1 partition by rate, 3 with 3 brokers; retention
        // (2 h + 2 h) × 1.25 = 5 h, 10 MB/s × 18,000 s ÷ 3 = 60 GB per partition.
        let load = KafkaPlan.Load(signal: .traces, uncompressedBytesPerSecond: 40_000_000, itemBytes: 400, compressionRatio: 0.25)
        #expect(load.itemsPerSecond == 100_000)
        let result = KafkaPlan(loads: [load], outage: .seconds(2 * 3600)).plan()
        #expect(result.lines[0] == "otlp_spans items/s: 40.0 MB/s ÷ 400 B per item = 100000 items/s")
        #expect(result.backends == 1)
        #expect(result.topics == [.init(signal: .traces, partitions: 3, bytesPerSecond: 10_000_000, retentionBytesPerPartition: 60_000_000_000)])
    }

    @Test func byteAmountsWithAndWithoutUnits() {
        #expect(KafkaPlan.bytes(parsing: "40MB") == 40_000_000)
        #expect(KafkaPlan.bytes(parsing: "1.5 GiB/s") == 1.5 * 1_073_741_824)
        #expect(KafkaPlan.bytes(parsing: "250000") == 250_000)
        #expect(KafkaPlan.bytes(parsing: "512kB") == 512_000)
        #expect(KafkaPlan.bytes(parsing: "2KiB") == 2048)
        #expect(KafkaPlan.bytes(parsing: "lots") == nil)
        #expect(KafkaPlan.bytes(parsing: "-3MB") == nil)
    }

    func framed(_ requests: [[UInt8]]) -> [UInt8] {
        requests.flatMap { request in withUnsafeBytes(of: UInt32(request.count).bigEndian, Array.init) + request }
    }

    @Test func aSampleGivesItemSizesAndTheCodecsRatio() throws {
        let spans = ExportTraceServiceRequest.with { request in
            request.resourceSpans = [.with { $0.scopeSpans = [.with { scope in
                scope.spans = (0..<50).map { i in .with { $0.name = "GET /orders/\(i)"; $0.traceID = Data(repeating: 1, count: 16); $0.spanID = Data(repeating: UInt8(i), count: 8) } }
            }] }]
        }
        let logs = ExportLogsServiceRequest.with { request in
            request.resourceLogs = [.with { $0.scopeLogs = [.with { scope in scope.logRecords = (0..<10).map { i in .with { $0.body.stringValue = "line \(i)" } } }] }]
        }
        let traceBytes: [UInt8] = try spans.serializedBytes(), logBytes: [UInt8] = try logs.serializedBytes()
        let samples = try KafkaPlan.measure(sample: framed([traceBytes, traceBytes, logBytes]), codec: "zstd")
        #expect(samples.map(\.signal) == [.traces, .logs])
        #expect(samples[0].items == 100 && samples[0].bytes == 2 * traceBytes.count)
        #expect(samples[0].itemBytes == Double(traceBytes.count) / 50)
        #expect(samples[0].compressedBytes == 2 * (Compression.zstd(traceBytes)?.count ?? 0))
        #expect(samples[0].compressionRatio < 0.5, "repeated names and ids compress")
        #expect(samples[1].items == 10)

        let truncated = #expect(throws: KafkaPlan.SampleError.self) { try KafkaPlan.measure(sample: Array(framed([traceBytes]).dropLast()), codec: "none") }
        #expect(truncated?.description.hasPrefix("the sample ends inside a request (at byte 0)") == true)
        #expect(throws: KafkaPlan.SampleError.self) { try KafkaPlan.measure(sample: framed([traceBytes]), codec: "snappy") }
    }
}
