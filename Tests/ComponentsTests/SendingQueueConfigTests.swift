import Components
import Foundation
import Pipeline
import TestScratch
import Testing

/// `sending_queue`, `retry_on_failure` and `file_storage` as the Go collector's configs write them.
@Suite struct SendingQueueConfigTests {
    static func edge(_ exporter: String, extensions: String = "", serviceExtensions: String = "") -> String {
        """
        receivers:
          otlp:
            protocols:
              grpc:
        exporters:
          kafka:
            brokers: [localhost:9092]
        \(exporter)
        extensions:
          health_check:
        \(extensions)
        service:
          extensions: [health_check\(serviceExtensions)]
          pipelines:
            traces:
              receivers: [otlp]
              exporters: [kafka]
        """
    }

    func load(_ text: String) throws -> CollectorConfig {
        let path = TestScratch.file("queue.yaml")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        var sources = ConfigSources()
        try sources.addFile(path)
        return try CollectorConfig.load(sources, registry: Components.registry)
    }

    func errors(_ text: String) throws -> [ConfigError] {
        do {
            _ = try load(text)
            return []
        } catch let error as ConfigErrors {
            return error.errors
        }
    }

    func queue(_ config: CollectorConfig, _ name: String) throws -> SendingQueueSettings {
        let entry = try #require(config.exporters[try ComponentID(parsing: name)])
        return try #require(entry.config as? any QueuedExporterConfig).sendingQueue
    }

    @Test func defaultsFollowTheGoExporterHelper() throws {
        let config = try load(Self.edge(""))
        let settings = try queue(config, "kafka")
        #expect(settings.enabled && settings.num_consumers == 10 && settings.queue_size == 1000 && settings.sizer == .requests)
        #expect(!settings.block_on_overflow && !settings.wait_for_result && settings.storage == nil)
        let retry = try #require((config.exporters[ComponentID(type: "kafka")]?.config as? any QueuedExporterConfig)?.retryOnFailure)
        #expect(retry.enabled && retry.initial_interval == .seconds(5) && retry.max_interval == .seconds(30))
        #expect(retry.maxElapsed == .seconds(300) && retry.keepsUndeliveredData)
    }

    @Test func elasticsearchUsesItsFactorysDefaultsAndNumWorkers() throws {
        let text = Self.edge("  elasticsearch:\n    endpoint: http://localhost:9200\n    num_workers: 3\n")
            .replacingOccurrences(of: "exporters: [kafka]", with: "exporters: [kafka, elasticsearch]")
        let settings = try queue(try load(text), "elasticsearch")
        #expect(settings.queue_size == 10 && settings.block_on_overflow && settings.num_consumers == 3)
        let partial = Self.edge("  elasticsearch:\n    endpoint: http://localhost:9200\n    sending_queue:\n      sizer: bytes\n")
            .replacingOccurrences(of: "exporters: [kafka]", with: "exporters: [kafka, elasticsearch]")
        let written = try queue(try load(partial), "elasticsearch")
        #expect(written.sizer == .bytes && written.queue_size == 10 && written.block_on_overflow)
    }

    @Test func errorsNameTheFileAndTheKeyPath() throws {
        let bad = try #require(try errors(Self.edge("    sending_queue:\n      num_consumers: 0\n")).first)
        #expect(bad.path == "exporters.kafka.sending_queue.num_consumers")
        #expect(bad.message == "must be at least 1")
        #expect(bad.file?.hasSuffix(".yaml") == true)
        let sizer = try #require(try errors(Self.edge("    sending_queue:\n      sizer: spans\n")).first)
        #expect(sizer.path == "exporters.kafka.sending_queue.sizer")
        #expect(sizer.message == #"invalid value "spans": must be one of requests, items, bytes"#)
        let both = try #require(try errors(Self.edge("    sending_queue:\n      wait_for_result: true\n      storage: file_storage\n",
                                                     extensions: "  file_storage:\n    create_directory: true\n    directory: /tmp/q",
                                                     serviceExtensions: ", file_storage")).first)
        #expect(both.path == "exporters.kafka.sending_queue.wait_for_result")
        let retry = try #require(try errors(Self.edge("    retry_on_failure:\n      multiplier: 0.5\n")).first)
        #expect(retry.path == "exporters.kafka.retry_on_failure.multiplier")
    }

    @Test func queueBatchMaxSizeBoundsWhatIsMerged() throws {
        let defaults = try queue(try load(Self.edge("")), "kafka").mergeLimit
        #expect(defaults.items == 8192 && defaults.bytes == 4 << 20)
        let items = try queue(try load(Self.edge("    sending_queue:\n      batch:\n        max_size: 10000\n")), "kafka").mergeLimit
        #expect(items.items == 10000 && items.bytes == Int.max)
        let bytes = try queue(try load(Self.edge("    sending_queue:\n      batch:\n        sizer: bytes\n        min_size: 1000\n        max_size: 2000000\n")), "kafka").mergeLimit
        #expect(bytes.bytes == 2_000_000 && bytes.items == Int.max)
        let bad = try #require(try errors(Self.edge("    sending_queue:\n      batch:\n        min_size: 10\n        max_size: 5\n")).first)
        #expect(bad.path == "exporters.kafka.sending_queue.batch.max_size")
    }

    @Test func storageMustNameAnExtensionInTheService() throws {
        let error = try #require(try errors(Self.edge("    sending_queue:\n      storage: file_storage/q\n")).first)
        #expect(error.path == "exporters.kafka.sending_queue.storage")
        #expect(error.message == #"names extension "file_storage/q", which is not configured and listed in service.extensions"#)
        let listed = try load(Self.edge("    sending_queue:\n      storage: file_storage/q\n",
                                        extensions: "  file_storage/q:\n    create_directory: true\n    directory: /tmp/q",
                                        serviceExtensions: ", file_storage/q"))
        #expect(try queue(listed, "kafka").storage == "file_storage/q")
    }

    @Test func keysWithoutEffectAreWarnedAbout() throws {
        let config = try load(Self.edge("    sending_queue:\n      batch:\n        flush_timeout: 1s\n",
                                        extensions: "  file_storage:\n    create_directory: true\n    directory: /tmp/q\n    compaction:\n      on_start: true",
                                        serviceExtensions: ", file_storage"))
        #expect(config.warnings.contains { $0.hasPrefix("exporters.kafka.sending_queue.batch.flush_timeout and min_size have no effect") })
        #expect(config.warnings.contains { $0.hasPrefix("extensions.file_storage.compaction is accepted but has no effect") })
    }

    @Test func fileStorageDirectoryMustExistUnlessCreated() throws {
        let missing = "/tmp/otelcol-absent-\(UUID().uuidString)"
        let error = try #require(try errors(Self.edge("", extensions: "  file_storage:\n    directory: \(missing)", serviceExtensions: ", file_storage")).first)
        #expect(error.path == "extensions.file_storage.directory")
        #expect(error.message == "\(missing) does not exist (create it, or set create_directory: true)")
        let mode = try #require(try errors(Self.edge("", extensions: "  file_storage:\n    directory: /tmp\n    directory_permissions: rwx", serviceExtensions: ", file_storage")).first)
        #expect(mode.path == "extensions.file_storage.directory_permissions")
    }
}
