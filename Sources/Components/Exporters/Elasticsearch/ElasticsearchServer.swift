import Foundation

/// What answers at the endpoint, from `GET /`. Elasticsearch 8.12+ takes `require_data_stream`
/// (so a document never lands in an auto-created plain index) and builds time-series ids itself;
/// OpenSearch-compatible servers reject the parameter and need our ids on metric documents too.
struct ElasticsearchServer: Sendable, Equatable {
    enum Distribution: String, Sendable { case elasticsearch, opensearch }

    var distribution: Distribution
    var major: Int
    var minor: Int

    /// When `GET /` is not allowed (an API key scoped to writing), the Go exporter's assumption.
    static let assumed = ElasticsearchServer(distribution: .elasticsearch, major: 8, minor: 12)

    var acceptsRequireDataStream: Bool {
        distribution == .elasticsearch && (major, minor) >= (8, 12)
    }

    /// Time series data streams derive `_id` from dimensions and timestamp and reject others.
    var takesMetricIDs: Bool { distribution != .elasticsearch }

    /// The server described by a `GET /` answer.
    static func from(rootResponse body: [UInt8]) -> ElasticsearchServer? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let version = object["version"] as? [String: Any],
              let number = version["number"] as? String else { return nil }
        let parts = number.split(separator: ".").compactMap { Int($0.prefix { $0.isNumber }) }
        let distribution: Distribution = (version["distribution"] as? String)?.lowercased() == "opensearch" ? .opensearch : .elasticsearch
        return ElasticsearchServer(distribution: distribution, major: parts.first ?? 0, minor: parts.dropFirst().first ?? 0)
    }
}
