import Foundation
import OTLP
import OTTL
import Pipeline

/// The `include` / `exclude` blocks of the filter (legacy form) and attributes processors. Every
/// property given must match (and); within a list, any entry may (or). Names and texts match
/// exactly (`strict`) or by unanchored regular expression (`regexp`).
public struct MatchConfig: ConfigSection {
    public struct Attribute: ConfigSection {
        public var key = ""
        public var value: ConfigNode?
        public init() {}
    }

    public struct Library: ConfigSection {
        public var name = ""
        public var version: String?
        public init() {}
    }

    public struct Severity: ConfigSection {
        public var min: ConfigNode?
        public var match_undefined = false
        public init() {}
    }

    public var match_type = ""
    public var services: [String] = []
    public var span_names: [String] = []
    public var span_kinds: [String] = []
    public var attributes: [Attribute] = []
    public var resources: [Attribute] = []
    public var libraries: [Library] = []
    public var log_bodies: [String] = []
    public var log_severity_texts: [String] = []
    public var log_severity_number = Severity()
    public var metric_names: [String] = []
    public var resource_attributes: [Attribute] = []
    public var record_attributes: [Attribute] = []
    public var severity_texts: [String] = []
    public var severity_number = Severity()
    public var bodies: [String] = []
    public var regexp: ConfigNode?
    public var expressions: [String] = []
    public init() {}
}

/// A `MatchConfig` ready to test items.
struct ItemMatcher: Sendable {
    private struct Texts: Sendable {
        let exact: Set<String>
        let patterns: [GoRegex]

        func matches(_ text: String) -> Bool {
            exact.contains(text) || patterns.contains { $0.matches(text) }
        }
    }

    private struct Attribute: Sendable {
        let key: String
        let value: Texts?
    }

    private let services: Texts?
    private let spanNames: Texts?
    private let spanKinds: Set<Int>?
    private let attributes: [Attribute]
    private let resources: [Attribute]
    private let libraries: [(name: Texts, version: Texts?)]
    private let bodies: Texts?
    private let severityTexts: Texts?
    private let minimumSeverity: (Int, matchUndefined: Bool)?
    private let metricNames: Texts?

    init?(_ config: MatchConfig, path: String) throws(ConfigError) {
        let regexp: Bool
        switch config.match_type {
        case "strict": regexp = false
        case "regexp": regexp = true
        case "": throw ConfigError(path: "\(path).match_type", message: "is required: strict or regexp")
        case "expr": throw ConfigError(path: "\(path).match_type", message: "expr is not supported; use OTTL conditions")
        default: throw ConfigError(path: "\(path).match_type", message: "must be strict or regexp, got \"\(config.match_type)\"")
        }
        if !config.expressions.isEmpty { throw ConfigError(path: "\(path).expressions", message: "not supported; use OTTL conditions") }
        func texts(_ values: [String], _ key: String) throws(ConfigError) -> Texts? {
            guard !values.isEmpty else { return nil }
            guard regexp else { return Texts(exact: Set(values), patterns: []) }
            var patterns: [GoRegex] = []
            for (index, value) in values.enumerated() {
                do { patterns.append(try GoRegex.compile(value)) } catch { throw ConfigError(path: "\(path).\(key)[\(index)]", message: error.description) }
            }
            return Texts(exact: [], patterns: patterns)
        }
        func attributeList(_ entries: [MatchConfig.Attribute], _ key: String) throws(ConfigError) -> [Attribute] {
            var out: [Attribute] = []
            for (index, entry) in entries.enumerated() {
                guard !entry.key.isEmpty else { throw ConfigError(path: "\(path).\(key)[\(index)].key", message: "is required") }
                var value: Texts?
                if case .scalar(let text, _)? = entry.value { value = try texts([text], "\(key)[\(index)].value") }
                out.append(Attribute(key: entry.key, value: value))
            }
            return out
        }
        services = try texts(config.services, "services")
        spanNames = try texts(config.span_names, "span_names")
        if config.span_kinds.isEmpty {
            spanKinds = nil
        } else {
            var kinds: Set<Int> = []
            let names = ["SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL", "SPAN_KIND_SERVER", "SPAN_KIND_CLIENT", "SPAN_KIND_PRODUCER", "SPAN_KIND_CONSUMER"]
            for (index, kind) in config.span_kinds.enumerated() {
                guard let value = names.firstIndex(of: kind) else {
                    throw ConfigError(path: "\(path).span_kinds[\(index)]", message: "unknown span kind \"\(kind)\"")
                }
                kinds.insert(value)
            }
            spanKinds = kinds
        }
        attributes = try attributeList(config.attributes, "attributes") + attributeList(config.record_attributes, "record_attributes")
        resources = try attributeList(config.resources, "resources") + attributeList(config.resource_attributes, "resource_attributes")
        var libraries: [(name: Texts, version: Texts?)] = []
        for (index, library) in config.libraries.enumerated() {
            guard let name = try texts([library.name], "libraries[\(index)].name") else { continue }
            libraries.append((name, try library.version.flatMap { version throws(ConfigError) in try texts([version], "libraries[\(index)].version") }))
        }
        self.libraries = libraries
        bodies = try texts(config.log_bodies + config.bodies, "bodies")
        severityTexts = try texts(config.log_severity_texts + config.severity_texts, "severity_texts")
        let severity = config.severity_number.min != nil ? config.severity_number : config.log_severity_number
        if case .scalar(let text, _)? = severity.min {
            guard let number = Self.severity(text) else {
                throw ConfigError(path: "\(path).severity_number.min", message: "must be 1 to 24 or a name such as WARN or ERROR2, got \"\(text)\"")
            }
            minimumSeverity = (number, severity.match_undefined)
        } else {
            minimumSeverity = nil
        }
        metricNames = try texts(config.metric_names, "metric_names")
        if services == nil, spanNames == nil, spanKinds == nil, attributes.isEmpty, resources.isEmpty, libraries.isEmpty, bodies == nil,
           severityTexts == nil, minimumSeverity == nil, metricNames == nil {
            return nil
        }
    }

    private static func severity(_ text: String) -> Int? {
        if let number = Int(text), (1...24).contains(number) { return number }
        let names = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"]
        let upper = text.uppercased()
        for (offset, name) in names.enumerated() where upper.hasPrefix(name) {
            let suffix = upper.dropFirst(name.count)
            if suffix.isEmpty { return offset * 4 + 1 }
            if let n = Int(suffix), (2...4).contains(n) { return offset * 4 + n }
        }
        return nil
    }

    private static func all(_ wanted: [Attribute], in attributes: [KeyValue]) -> Bool {
        wanted.allSatisfy { want in
            guard let found = attributes[ottl: want.key] else { return false }
            guard let value = want.value else { return true }
            return value.matches(OTTLValue(found).text)
        }
    }

    private func common(_ scope: InstrumentationScope, _ resource: Resource) -> Bool {
        if let services, !services.matches(resource.attributes[ottl: "service.name"].map { OTTLValue($0).text } ?? "") { return false }
        if !Self.all(resources, in: resource.attributes) { return false }
        if !libraries.isEmpty, !libraries.contains(where: { $0.name.matches(scope.name) && ($0.version?.matches(scope.version) ?? true) }) {
            return false
        }
        return true
    }

    func matches(_ span: Span, _ scope: InstrumentationScope, _ resource: Resource) -> Bool {
        guard common(scope, resource) else { return false }
        if let spanNames, !spanNames.matches(span.name) { return false }
        if let spanKinds, !spanKinds.contains(span.kind.rawValue) { return false }
        return Self.all(attributes, in: span.attributes)
    }

    func matches(_ log: LogRecord, _ scope: InstrumentationScope, _ resource: Resource) -> Bool {
        guard common(scope, resource) else { return false }
        if let bodies, !bodies.matches(OTTLValue(log.body).text) { return false }
        if let severityTexts, !severityTexts.matches(log.severityText) { return false }
        if let (minimum, matchUndefined) = minimumSeverity {
            let number = log.severityNumber.rawValue
            if number == 0 ? !matchUndefined : number < minimum { return false }
        }
        return Self.all(attributes, in: log.attributes)
    }

    func matches(_ metric: Metric, _ scope: InstrumentationScope, _ resource: Resource) -> Bool {
        guard common(scope, resource) else { return false }
        if let metricNames, !metricNames.matches(metric.name) { return false }
        return true
    }
}

/// An optional `include` and `exclude`: an item passes when it matches the first (if given) and
/// not the second.
struct IncludeExclude: Sendable {
    let include: ItemMatcher?
    let exclude: ItemMatcher?

    init(include: MatchConfig?, exclude: MatchConfig?, path: String) throws(ConfigError) {
        let prefix = path.isEmpty ? "" : path + "."
        self.include = try include.flatMap { config throws(ConfigError) in try ItemMatcher(config, path: prefix + "include") }
        self.exclude = try exclude.flatMap { config throws(ConfigError) in try ItemMatcher(config, path: prefix + "exclude") }
    }

    var isEmpty: Bool { include == nil && exclude == nil }

    func passes(_ matches: (ItemMatcher) -> Bool) -> Bool {
        if let include, !matches(include) { return false }
        if let exclude, matches(exclude) { return false }
        return true
    }
}
