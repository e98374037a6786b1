import Foundation
import Pipeline
import Testing
@testable import Components

@Suite struct ElasticsearchConfigTests {
    @Test func endpointsComeFromExactlyOneSource() throws {
        let both = #expect(throws: ConfigError.self) {
            try decodeConfig(ElasticsearchExporterConfig.self, "endpoint: http://a:9200\nendpoints: [http://b:9200]\n")
        }
        #expect(both?.message == "exactly one of [endpoint, endpoints, cloudid] must be specified")
        let scheme = #expect(throws: ConfigError.self) {
            try decodeConfig(ElasticsearchExporterConfig.self, "endpoints: [http://a:9200, ftp://b]\n")
        }
        #expect(scheme?.path == "endpoints[1]")
        let fromEnvironment = try ElasticsearchExporterConfig().resolvedEndpoints(environment: ["ELASTICSEARCH_URL": " http://a:9200/ , https://b:9243"])
        #expect(fromEnvironment == ["http://a:9200", "https://b:9243"])
        let cloud = "name:" + Data("eu-west-1.aws.found.io$abc123$kibana".utf8).base64EncodedString()
        #expect(try decodeConfig(ElasticsearchExporterConfig.self, "cloudid: \(cloud)\n").resolvedEndpoints() == ["https://abc123.eu-west-1.aws.found.io"])
    }

    @Test func defaultsAndModes() throws {
        let config = try decodeConfig(ElasticsearchExporterConfig.self, "endpoint: http://a:9200\nretry:\n  max_requests: 5\n")
        #expect(config.maxRetries == 4)
        #expect(config.compression == .gzip)
        #expect(config.timeout == .seconds(90))
        #expect(config.documentRetryStatuses == [429, 500, 502, 503, 504])
        let ecs = #expect(throws: ConfigError.self) {
            try decodeConfig(ElasticsearchExporterConfig.self, "endpoint: http://a:9200\nmapping:\n  mode: ecs\n")
        }
        #expect(ecs?.path == "mapping.mode")
        let unknown = #expect(throws: ConfigError.self) {
            try decodeConfig(ElasticsearchExporterConfig.self, "endpoint: http://a:9200\nretry:\n  max_retry: 3\n")
        }
        #expect(unknown?.path == "retry.max_retry")
    }

    @Test func compressionLevelsAreGoOnes() throws {
        let url = "endpoint: http://a:9200\n"
        #expect(try decodeConfig(ElasticsearchExporterConfig.self, url).compression_params.gzipLevel(default: 1) == 1)
        #expect(try decodeConfig(ElasticsearchExporterConfig.self, url + "compression_params:\n  level: 9\n").compression_params.gzipLevel(default: 1) == 9)
        #expect(try decodeConfig(ElasticsearchExporterConfig.self, url + "compression_params:\n  level: -1\n").compression_params.gzipLevel(default: 1) == 6)
        #expect(try decodeConfig(ElasticsearchExporterConfig.self, url + "compression_params:\n  level: 0\n").compression_params.gzipLevel(default: 1) == 0)
        let outOfRange = #expect(throws: ConfigError.self) {
            try decodeConfig(ElasticsearchExporterConfig.self, url + "compression_params:\n  level: 10\n")
        }
        #expect(outOfRange?.path == "compression_params.level")
        #expect(outOfRange?.message == "unsupported level 10 for compression type \"gzip\" (1 fastest to 9 smallest, -1 default, 0 none, -2 Huffman-only)")
        let withoutCompression = #expect(throws: ConfigError.self) {
            try decodeConfig(ElasticsearchExporterConfig.self, url + "compression: none\ncompression_params:\n  level: 5\n")
        }
        #expect(withoutCompression?.message == "unsupported level 5 for compression type \"none\"")
        let unknown = #expect(throws: ConfigError.self) {
            try decodeConfig(ElasticsearchExporterConfig.self, url + "compression_params:\n  levle: 5\n")
        }
        #expect(unknown?.path == "compression_params.levle")
        let zstd = try decodeConfig(OTLPHTTPExporterConfig.self, "endpoint: http://a:4318\ncompression: zstd\ncompression_params:\n  level: 11\n")
        #expect(zstd.compression_params.zstdLevel == 11)
        #expect(try decodeConfig(OTLPHTTPExporterConfig.self, "endpoint: http://a:4318\n").compression_params.gzipLevel(default: 6) == 6)
    }
}
