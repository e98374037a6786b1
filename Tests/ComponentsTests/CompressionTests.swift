import Foundation
import NIOCore
import Testing
@testable import Components

/// Bodies compressed by the exporters, checked with the gzip program as the independent decoder,
/// and the receivers' decompression of bodies it wrote.
@Suite struct CompressionTests {
    /// NDJSON like a bulk body (compressible) and random bytes (stored, not compressed).
    static let bodies: [(String, [UInt8])] = {
        var generator = SystemRandomNumberGenerator()
        let json = (0..<2000).map { #"{"create":{"_index":"traces-generic.otel-default"}}\#n{"span_id":"\#($0)","name":"GET /a/\#($0 % 7)"}\#n"# }
        return [("empty", []), ("one byte", [0x41]), ("ndjson", Array(json.joined().utf8)),
                ("random", (0..<200_000).map { _ in UInt8.random(in: 0...255, using: &generator) })]
    }()

    @Test(arguments: [0, 1, 6, 9] as [Int32])
    func gzipBodiesDecodeWithGzip(level: Int32) throws {
        for (name, body) in Self.bodies {
            let compressed = try #require(Compression.gzip(body, level: level), "\(name) at level \(level)")
            let bytes = Array(compressed.readableBytesView)
            #expect(bytes.prefix(2) == [0x1F, 0x8B], "\(name) at level \(level)")
            #expect(try Self.gzip(["-dc"], bytes) == body, "\(name) at level \(level)")
            if name == "ndjson", level > 0 { #expect(bytes.count < body.count / 5, "level \(level) wrote \(bytes.count) bytes") }
        }
    }

    @Test func compressionBombStopsAtTheLimit() throws {
        // 10 MiB of zeros gzip to about 10 KiB; the limit is 1 MiB.
        let zeros = [UInt8](repeating: 0, count: 10 * 1024 * 1024)
        let gz = try Self.gzip(["-c"], zeros)
        #expect(gz.count < 64 * 1024)
        let result = Decompression.decode(gz, contentEncoding: "gzip", limit: 1024 * 1024)
        guard case .failure(.tooLarge(let limit))? = result else { Issue.record("expected tooLarge, got \(String(describing: result))"); return }
        #expect(limit == 1024 * 1024)
    }

    @Test func gzipRoundTripAndCorruption() throws {
        let text = Array("hello otlp".utf8)
        #expect(try Decompression.decode(Self.gzip(["-c"], text), contentEncoding: "gzip", limit: 100)?.get() == text)
        guard case .failure(.corrupt)? = Decompression.decode([1, 2, 3, 4], contentEncoding: "gzip", limit: 100) else {
            Issue.record("corrupt gzip accepted"); return
        }
        #expect(Decompression.decode(text, contentEncoding: "br", limit: 100) == nil)
    }

    /// Runs /bin/gzip with `arguments` on `bytes` and returns what it wrote.
    static func gzip(_ arguments: [String], _ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = arguments
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread { input.fileHandleForWriting.write(Data(bytes)); try? input.fileHandleForWriting.close() }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "gzip \(arguments) exited with \(process.terminationStatus)")
        return [UInt8](data)
    }
}
