import Foundation
import OTLP

/// Where a document goes: a data stream (`<type>-<dataset>-<namespace>`) whose fields the document
/// carries, or an index named by config or by the `elasticsearch.index` attribute.
struct Route: Equatable {
    enum Kind: String { case logs, metrics, traces }
    struct DataStream: Equatable {
        var type: Kind
        var dataset: String
        var namespace: String
    }

    var index: String
    var dataStream: DataStream?
}

/// The attributes that steer routing, ids and pipelines; they are never written into documents.
enum RoutingAttribute {
    static let dataset = "data_stream.dataset"
    static let namespace = "data_stream.namespace"
    static let type = "data_stream.type"
    static let index = "elasticsearch.index"
    static let documentID = "elasticsearch.document_id"
    static let pipeline = "elasticsearch.ingest_pipeline"
    static let mappingHints = "elasticsearch.mapping.hints"
    static let mappingMode = "elastic.mapping.mode"

    static let excluded: Set<String> = [dataset, namespace, type, index, documentID, pipeline, mappingHints, mappingMode]

    static func string(_ key: String, in attributes: [KeyValue]) -> String? {
        for attribute in attributes where attribute.key == key {
            if case .stringValue(let value)? = attribute.value.value, !value.isEmpty { return value }
            return nil
        }
        return nil
    }
}

/// The Go exporter's routing, first match wins: a static index from config; `elasticsearch.index`
/// (record, then scope, then resource); otherwise a data stream whose dataset and namespace come
/// from `data_stream.*` attributes with the same precedence, the scope's `encoding.format`, or the
/// receiver named in the scope, defaulting to `generic` / `default`. Otel mode appends `.otel`.
struct DataStreamRouter {
    let logsIndex: String
    let metricsIndex: String
    let tracesIndex: String
    let datasetSuffix: String
    /// `logstash_format`: a date suffix (of the wall clock, as the Go exporter does).
    let logstashSuffix: String?

    init(config: ElasticsearchExporterConfig, now: Date = Date()) {
        logsIndex = config.logs_index.isEmpty ? (config.index ?? "") : config.logs_index
        metricsIndex = config.metrics_index
        tracesIndex = config.traces_index
        datasetSuffix = config.mappingMode == "otel" ? ".otel" : ""
        if config.logstash_format.enabled {
            logstashSuffix = config.logstash_format.prefix_separator + Self.strftime(config.logstash_format.date_format, now)
        } else {
            logstashSuffix = nil
        }
    }

    /// The part of a route that scope and resource decide, worked out once per scope.
    struct ScopeDefaults {
        var index: String?
        var dataset: String
        var namespace: String
    }

    func scopeDefaults(scope: InstrumentationScope, resource: [KeyValue]) -> ScopeDefaults {
        let index = RoutingAttribute.string(RoutingAttribute.index, in: scope.attributes)
            ?? RoutingAttribute.string(RoutingAttribute.index, in: resource)
        let dataset = RoutingAttribute.string(RoutingAttribute.dataset, in: scope.attributes)
            ?? RoutingAttribute.string(RoutingAttribute.dataset, in: resource)
            ?? RoutingAttribute.string("encoding.format", in: scope.attributes)
            ?? Self.receiverName(in: scope.name)
            ?? "generic"
        let namespace = RoutingAttribute.string(RoutingAttribute.namespace, in: scope.attributes)
            ?? RoutingAttribute.string(RoutingAttribute.namespace, in: resource)
            ?? "default"
        return ScopeDefaults(index: index, dataset: dataset, namespace: namespace)
    }

    func route(_ kind: Route.Kind, record: [KeyValue], defaults: ScopeDefaults) -> Route {
        let configured = switch kind { case .logs: logsIndex; case .metrics: metricsIndex; case .traces: tracesIndex }
        if !configured.isEmpty { return Route(index: withLogstash(configured)) }
        var index = defaults.index, dataset = defaults.dataset, namespace = defaults.namespace
        for attribute in record {
            // Routing keys start with "d" or "e"; most keys are passed over on their first byte.
            guard let first = attribute.key.utf8.first, first == UInt8(ascii: "d") || first == UInt8(ascii: "e"),
                  attribute.key.hasPrefix("data_stream.") || attribute.key == RoutingAttribute.index else { continue }
            guard case .stringValue(let value)? = attribute.value.value, !value.isEmpty else { continue }
            switch attribute.key {
            case RoutingAttribute.index: index = value
            case RoutingAttribute.dataset: dataset = value
            case RoutingAttribute.namespace: namespace = value
            default: break
            }
        }
        if let index { return Route(index: withLogstash(index)) }
        let cleanDataset = Self.sanitize(dataset, replacingDash: true, limit: 100 - datasetSuffix.utf8.count) + datasetSuffix
        let cleanNamespace = Self.sanitize(namespace, replacingDash: false, limit: 100)
        return Route(index: withLogstash("\(kind.rawValue)-\(cleanDataset)-\(cleanNamespace)"),
                     dataStream: .init(type: kind, dataset: cleanDataset, namespace: cleanNamespace))
    }

    private func withLogstash(_ index: String) -> String {
        guard let logstashSuffix else { return index }
        return index + logstashSuffix
    }

    /// Lower case, characters Elasticsearch forbids in index names as `_`, at most `limit` bytes.
    static func sanitize(_ value: String, replacingDash: Bool, limit: Int) -> String {
        var bytes: [UInt8] = []
        for byte in value.lowercased().utf8 {
            switch byte {
            case UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "*"), UInt8(ascii: "?"), UInt8(ascii: "\""),
                 UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "|"), UInt8(ascii: " "), UInt8(ascii: ","),
                 UInt8(ascii: "#"), UInt8(ascii: ":"):
                bytes.append(UInt8(ascii: "_"))
            case UInt8(ascii: "-") where replacingDash:
                bytes.append(UInt8(ascii: "_"))
            default:
                bytes.append(byte)
            }
        }
        if bytes.count > limit {
            bytes.removeLast(bytes.count - limit)
            // Never cut a multi-byte character in half.
            while let last = bytes.last, last & 0xC0 == 0x80 { bytes.removeLast() }
            if let last = bytes.last, last >= 0xC0 { bytes.removeLast() }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// `hostmetricsreceiver` from a scope name such as `…/receiver/hostmetricsreceiver/internal/…`
    /// (likewise for connectors).
    static func receiverName(in scopeName: String) -> String? {
        for kind in ["receiver", "connector"] {
            guard let range = scopeName.range(of: "/\(kind)/") else { continue }
            let word = scopeName[range.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "_" }
            guard let end = word.range(of: kind, options: .backwards) else { continue }
            return String(word[..<end.upperBound])
        }
        return nil
    }

    /// The strftime directives the Go exporter's date formats use.
    static func strftime(_ format: String, _ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? .current
        let parts = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        func two(_ value: Int?) -> String { value.map { $0 < 10 ? "0\($0)" : "\($0)" } ?? "00" }
        var output = ""
        var iterator = format.makeIterator()
        while let character = iterator.next() {
            guard character == "%", let directive = iterator.next() else { output.append(character); continue }
            switch directive {
            case "Y": output += String(parts.year ?? 0)
            case "y": output += two((parts.year ?? 0) % 100)
            case "m": output += two(parts.month)
            case "d": output += two(parts.day)
            case "H": output += two(parts.hour)
            case "M": output += two(parts.minute)
            case "S": output += two(parts.second)
            case "%": output += "%"
            default: output += "%\(directive)"
            }
        }
        return output
    }
}
