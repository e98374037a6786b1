import Components
import Foundation
import Pipeline

/// The least config of each registered component type, and a whole collector config around one
/// component, for the tests that go over every component.
enum ComponentSamples {
    /// The least each component type needs to pass validation.
    static var minimal: [String: [String: Any]] { [
        "otlp": ["protocols": ["grpc": [String: Any]()]],
        "memory_limiter": ["check_interval": "1s", "limit_mib": 100],
        "attributes": ["actions": [["key": "a", "action": "delete"]]],
        "resource": ["attributes": [["key": "a", "action": "delete"]]],
        "tail_sampling": ["policies": [["name": "all", "type": "always_sample"]]],
        "file": ["path": FileManager.default.temporaryDirectory.appendingPathComponent("otelcol-swift-samples/out.json").path],
        "exporter/otlp": ["endpoint": "localhost:4317"],
        "otlp_grpc": ["endpoint": "localhost:4317"],
        "otlphttp": ["endpoint": "http://localhost:4318"],
        "otlp_http": ["endpoint": "http://localhost:4318"],
        "elasticsearch": ["endpoint": "http://localhost:9200"],
        "file_storage": ["directory": FileManager.default.temporaryDirectory.path],
        "bearertokenauth": ["token": "sample-token"],
        "basicauth": ["client_auth": ["username": "user", "password": "sample-password"]],
        "oauth2client": ["client_id": "sample-client", "client_secret": "sample-secret", "token_url": "http://127.0.0.1:1/token"],
        "headers_setter": ["headers": [["key": "X-Tenant", "from_context": "tenant"]]],
    ] }

    static func minimal(_ kind: ComponentKind, _ type: String) -> [String: Any] {
        minimal["\(kind.rawValue)/\(type)"] ?? minimal[type] ?? [:]
    }

    /// A whole config with one component of `kind` and `type` in a traces pipeline (JSON is YAML).
    static func config(_ kind: ComponentKind, _ type: String, _ component: [String: Any]) throws -> String {
        var top: [String: Any] = [
            "receivers": ["otlp": ["protocols": ["grpc": [String: Any]()]]],
            "exporters": ["debug": [String: Any]()],
        ]
        var pipeline: [String: Any] = ["receivers": ["otlp"], "exporters": ["debug"]]
        var service: [String: Any] = [:]
        switch kind {
        case .receiver:
            top["receivers"] = [type: component]
            pipeline["receivers"] = [type]
        case .processor:
            top["processors"] = [type: component]
            pipeline["processors"] = [type]
        case .exporter:
            top["exporters"] = [type: component]
            pipeline["exporters"] = [type]
        case .extension:
            top["extensions"] = [type: component]
            service["extensions"] = [type]
        case .connector:
            // The traces pipeline feeds a second one through the connector, of the signal the
            // connector makes from traces.
            let output = Components.registry.connectors[type]?.pairs.first { $0.from == .traces }?.to ?? .traces
            top["connectors"] = [type: component]
            pipeline["exporters"] = [type]
            service["pipelines"] = ["traces": pipeline, "\(output.rawValue)/after": ["receivers": [type], "exporters": ["debug"]]]
            top["service"] = service
            return String(decoding: try JSONSerialization.data(withJSONObject: top), as: UTF8.self)
        }
        service["pipelines"] = ["traces": pipeline]
        top["service"] = service
        return String(decoding: try JSONSerialization.data(withJSONObject: top), as: UTF8.self)
    }

    static func load(_ text: String) throws -> CollectorConfig {
        var sources = ConfigSources()
        try sources.addYAML(text, origin: "go.yaml")
        return try CollectorConfig.load(sources, registry: Components.registry)
    }

    /// `component` with `value` at `path`, keeping what is there; a list on the way gets it in
    /// its first entry.
    static func setting(_ path: ArraySlice<String>, to value: Any, in component: [String: Any]) -> [String: Any] {
        guard let key = path.first else { return component }
        var out = component
        if path.count == 1 {
            out[key] = value
        } else if var list = component[key] as? [[String: Any]], !list.isEmpty {
            list[0] = setting(path.dropFirst(), to: value, in: list[0])
            out[key] = list
        } else {
            out[key] = setting(path.dropFirst(), to: value, in: component[key] as? [String: Any] ?? [:])
        }
        return out
    }

    /// `path` as the config's warnings name it: `[0]` after a segment that is a list in `component`.
    static func concrete(_ path: [String], in component: [String: Any]) -> String {
        var out: [String] = [], level: Any? = component
        for key in path {
            let next = (level as? [String: Any])?[key]
            if let list = next as? [[String: Any]] {
                out.append(key + "[0]")
                level = list.first
            } else {
                out.append(key)
                level = next
            }
        }
        return out.joined(separator: ".")
    }
}
