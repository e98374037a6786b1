import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import OTLP
import Pipeline
import Synchronization

struct Telemetrygen: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Generate OTLP load and sample data, and check what arrived.",
        subcommands: [Generate.self, Check.self],
        defaultSubcommand: Generate.self)
}

struct Generate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send traces, metrics or logs: otelcol-swift telemetrygen traces --traces 100")

    @Argument(help: "traces, metrics or logs") var signal: String
    @Option(help: "host:port of the OTLP receiver (default localhost:4317, or :4318 with --otlp-http)") var otlpEndpoint: String?
    @Flag(help: "Send OTLP/HTTP instead of OTLP/gRPC.") var otlpHttp = false
    @Flag(help: "Plaintext (the only mode supported; accepted for compatibility).") var otlpInsecure = false
    @Option(help: "Requests' items per second per worker; 0 means as fast as possible.") var rate: Double = 0
    @Option(help: "Run for this long (e.g. 10s) instead of a count.") var duration: String?
    @Option(help: "Traces per worker.") var traces: Int = 1
    @Option(help: "Metric data points per worker.") var metrics: Int = 1
    @Option(help: "Log records per worker.") var logs: Int = 1
    @Option(help: "Concurrent senders.") var workers: Int = 1
    @Option(help: "Child spans per trace.") var childSpans: Int = 1
    @Option(help: "Traces, points or records per request.") var batchSize: Int = 100
    @Option(help: "Realistic attributes per item besides the sequence number.") var spanAttributes: Int = 4
    @Option(help: "service.name of the generated resource.") var service = "telemetrygen"

    func run() async throws {
        guard let signal = Signal(rawValue: signal) else { throw ValidationError("signal must be traces, metrics or logs") }
        let endpoint = otlpEndpoint ?? (otlpHttp ? "localhost:4318" : "localhost:4317")
        let sender: any OTLPSender
        if otlpHttp {
            sender = HTTPSender(endpoint: endpoint)
        } else {
            guard let colon = endpoint.lastIndex(of: ":"), let port = Int(endpoint[endpoint.index(after: colon)...]) else {
                throw ValidationError("--otlp-endpoint must be host:port")
            }
            sender = try GRPCSender(host: String(endpoint[..<colon]), port: port)
        }
        let deadline: ContinuousClock.Instant? = try duration.map { text in
            guard let seconds = Double(text.dropLast(text.hasSuffix("ms") ? 2 : 1)) else { throw ValidationError("--duration like 10s") }
            return .now + (text.hasSuffix("ms") ? .milliseconds(seconds) : .seconds(seconds))
        }
        let perWorker = switch signal { case .traces: traces; case .metrics: metrics; case .logs: logs }
        let sample = SampleTelemetry(service: service, childSpans: childSpans, attributes: spanAttributes)
        let run = RunState()
        let batchSize = max(1, self.batchSize), rate = self.rate
        let started = ContinuousClock.now

        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<max(1, workers) {
                group.addTask {
                    var sent = 0
                    let workerStart = ContinuousClock.now
                    while deadline.map({ ContinuousClock.now < $0 }) ?? (sent < perWorker) {
                        let count = deadline == nil ? min(batchSize, perWorker - sent) : batchSize
                        let next = { run.sequence.wrappingAdd(1, ordering: .relaxed).oldValue }
                        let request: OTLPRequest = switch signal {
                        case .traces: .traces(sample.traces(count: count, nextSeq: next))
                        case .metrics: .metrics(sample.metrics(count: count, nextSeq: next))
                        case .logs: .logs(sample.logs(count: count, nextSeq: next))
                        }
                        let body = request.protobufBytes()
                        var waits = Backoff(initial: .milliseconds(100), maximum: .seconds(2)).start()
                        var outcome = await sender.send(signal, body)
                        while case .retryable = outcome, waits.attempt < 99, await waits.wait() == .waited {
                            run.stats.withLock { $0.retries += 1 }
                            outcome = await sender.send(signal, body)
                        }
                        let items = request.itemCount
                        run.stats.withLock { s in
                            s.requests += 1
                            if case .accepted = outcome { s.items += items } else { s.failed += items }
                        }
                        if case .rejected(let reason) = outcome { FileHandle.standardError.write(Data("export rejected: \(reason)\n".utf8)) }
                        if case .retryable(let reason) = outcome { FileHandle.standardError.write(Data("export failed after retries: \(reason)\n".utf8)) }
                        sent += count
                        if rate > 0 {
                            let due = workerStart + .seconds(Double(sent) / rate)
                            if due > .now { try? await Task.sleep(until: due) }
                        }
                    }
                }
            }
        }
        await sender.close()
        let s = run.stats.withLock { $0 }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        print("telemetrygen: sent \(s.items) \(signal.itemName) in \(s.requests) requests over \(String(format: "%.2f", seconds))s; \(s.retries) retries; \(s.failed) failed")
        if s.failed > 0 { throw ExitCode(1) }
    }
}

/// What all workers share: the next sequence number and the tallies.
final class RunState: Sendable {
    let sequence = Atomic<Int64>(0)
    let stats = Mutex<(items: Int, requests: Int, retries: Int, failed: Int)>((0, 0, 0, 0))
}

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report missing and duplicate sequence numbers in a file exporter's output or in Elasticsearch.")

    @Option(help: "The file exporter's output file.") var file: String?
    @Option(help: "json or proto (the file exporter's format).") var format = "json"
    @Option(help: "Signal of a proto file: traces, metrics or logs.") var signal = "traces"
    @Option(help: "Read the documents of --index from this Elasticsearch (or OpenSearch) URL instead of a file.") var elasticsearch: String?
    @Option(help: "Index pattern to read with --elasticsearch.") var index = "*"
    @Option(help: "How many items were sent (sequence numbers 0..<N).") var expect: Int64

    func validate() throws {
        if (file == nil) == (elasticsearch == nil) { throw ValidationError("give exactly one of --file and --elasticsearch") }
    }

    func run() async throws {
        var counts: [Int64: Int] = [:]
        if let file {
            let data = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            for request in try SequenceFile.requests(data, format: format, signal: Signal(rawValue: signal) ?? .traces) {
                for seq in SequenceFile.sequenceNumbers(request) { counts[seq, default: 0] += 1 }
            }
        } else if let elasticsearch {
            for seq in try await SequenceIndex.sequenceNumbers(url: elasticsearch, index: index) { counts[seq, default: 0] += 1 }
        }
        let missing = (0..<expect).filter { counts[$0] == nil }
        let duplicates = counts.filter { $0.value > 1 }.count
        let unexpected = counts.keys.filter { $0 < 0 || $0 >= expect }.count
        print("check: expected \(expect), found \(counts.count) distinct, missing \(missing.count), duplicates \(duplicates), unexpected \(unexpected)")
        if !missing.isEmpty { print("first missing: \(missing.prefix(10).map(String.init).joined(separator: ", "))") }
        if !missing.isEmpty || duplicates > 0 || unexpected > 0 { throw ExitCode(1) }
    }
}

/// Reads the sequence numbers of every document in an index pattern, page by page in `_id` order.
enum SequenceIndex {
    static func sequenceNumbers(url: String, index: String) async throws -> [Int64] {
        let session = URLSession(configuration: .ephemeral)
        var numbers: [Int64] = []
        var after: Any?
        while true {
            var query: [String: Any] = ["size": 5000, "sort": [["_id": "asc"]], "_source": ["attributes"], "query": ["match_all": [String: Any]()]]
            if let after { query["search_after"] = after }
            guard let endpoint = URL(string: "\(url)/\(index)/_search") else { throw ValidationError("not a URL: \(url)") }
            var request = URLRequest(url: endpoint)
            request.httpMethod = "POST"
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = try JSONSerialization.data(withJSONObject: query)
            let (data, response) = try await session.data(for: request)
            guard (response as? HTTPURLResponse)?.statusCode == 200,
                  let hits = ((try JSONSerialization.jsonObject(with: data) as? [String: Any])?["hits"] as? [String: Any])?["hits"] as? [[String: Any]]
            else { throw ValidationError("search failed: \(String(decoding: data.prefix(300), as: UTF8.self))") }
            if hits.isEmpty { return numbers }
            for hit in hits {
                let attributes = (hit["_source"] as? [String: Any])?["attributes"] as? [String: Any]
                // Source filtering may return dotted keys as nested objects.
                let value = attributes?[SampleTelemetry.sequenceKey] ?? (attributes?["telemetrygen"] as? [String: Any])?["seq"]
                if let number = value as? NSNumber { numbers.append(number.int64Value) }
            }
            after = hits.last?["sort"]
        }
    }
}

/// Reads the file exporter's two formats back into requests.
enum SequenceFile {
    static func requests(_ data: [UInt8], format: String, signal: Signal) throws -> [OTLPRequest] {
        var out: [OTLPRequest] = []
        if format == "proto" {
            var offset = 0
            while offset + 4 <= data.count {
                let length = Int(data[offset]) << 24 | Int(data[offset + 1]) << 16 | Int(data[offset + 2]) << 8 | Int(data[offset + 3])
                offset += 4
                guard offset + length <= data.count else { throw ValidationError("truncated record at offset \(offset)") }
                out.append(try OTLPRequest(signal: signal, protobuf: Array(data[offset..<(offset + length)])))
                offset += length
            }
            return out
        }
        for line in data.split(separator: UInt8(ascii: "\n")) where !line.isEmpty {
            let text = String(decoding: line.prefix(64), as: UTF8.self)
            let lineSignal: Signal = text.contains("resourceMetrics") ? .metrics : text.contains("resourceLogs") ? .logs : .traces
            out.append(try OTLPJSON.decode(lineSignal, Array(line)))
        }
        return out
    }

    static func sequenceNumbers(_ request: OTLPRequest) -> [Int64] {
        func seq(_ attributes: [KeyValue]) -> Int64? {
            attributes.first(where: { $0.key == SampleTelemetry.sequenceKey })?.value.intValue
        }
        switch request {
        case .traces(let r):
            return r.resourceSpans.flatMap { $0.scopeSpans.flatMap { $0.spans.compactMap { seq($0.attributes) } } }
        case .logs(let r):
            return r.resourceLogs.flatMap { $0.scopeLogs.flatMap { $0.logRecords.compactMap { seq($0.attributes) } } }
        case .metrics(let r):
            return r.resourceMetrics.flatMap { $0.scopeMetrics.flatMap { $0.metrics.flatMap { metric -> [Int64] in
                switch metric.data {
                case .gauge(let g): g.dataPoints.compactMap { seq($0.attributes) }
                case .sum(let s): s.dataPoints.compactMap { seq($0.attributes) }
                case .histogram(let h): h.dataPoints.compactMap { seq($0.attributes) }
                default: []
                }
            } } }
        }
    }
}
