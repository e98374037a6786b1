import OTLP

/// Contexts over encoded items, for conditions: every path reads its field where it lies in the
/// received bytes (`WireFields`), and nothing is decoded but a map or list a path asks for whole.
/// They have the names, paths and values of the model's contexts (`Contexts.swift`), so a program
/// checked for one runs on the other (`OTTLProgram(_:)`); writing is refused.

public struct WireResourceContext: OTTLContext {
    public static let name = ResourceContext.name
    public static let reachable = ResourceContext.reachable
    public static let fields = ResourceContext.fields
    public let resource: WireFields
    let cache = OTTLCache()

    public init(resource: WireFields) { self.resource = resource }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        return path.field == "cache" ? try cache.get(path) : try WireResourceFields.get(resource, path)
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) { throw readOnly(path) }
}

public struct WireScopeContext: OTTLContext {
    public static let name = ScopeContext.name
    public static let reachable = ScopeContext.reachable
    public static let fields = ScopeContext.fields
    public let scope: WireFields
    public let resource: WireFields
    let cache = OTTLCache()

    public init(scope: WireFields, resource: WireFields) {
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        switch path.context {
        case "resource": return try WireResourceFields.get(resource, path)
        default: return path.field == "cache" ? try cache.get(path) : try WireScopeFields.get(scope, path)
        }
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) { throw readOnly(path) }
}

/// A span, metric or log record under its scope and resource, all encoded.
public struct WireItemContext<Fields: WireItemFields>: OTTLContext {
    public static var name: String { Fields.name }
    public static var reachable: [String] { [Fields.name, "scope", "resource"] }
    public static var fields: Set<String> { Fields.names }
    /// The three messages in one value, which compiled conditions read in place.
    let levels: WireLevels
    let cache = OTTLCache()

    public var item: WireFields { levels.item }
    public var scope: WireFields { levels.scope }
    public var resource: WireFields { levels.resource }

    public init(_ item: WireFields, scope: WireFields, resource: WireFields) {
        levels = WireLevels(item: item, scope: scope, resource: resource)
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try WireUpperLevels.get(path, levels.scope, levels.resource) { return upper }
        return path.field == "cache" ? try cache.get(path) : try Fields.get(levels.item, path)
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) { throw readOnly(path) }

    /// A condition of this context with each path it covers resolved to what it reads.
    static func wireCondition(_ condition: OTTLCondition) -> WireCondition {
        WireCondition(condition) { WireRead.resolve($0, context: Fields.name) }
    }

    public static func compile(_ condition: OTTLCondition) -> OTTLCompiledCondition<Self>? {
        let compiled = wireCondition(condition)
        guard !compiled.isGeneral else { return nil }
        guard compiled.mayEvaluateGeneral else {
            // Nothing falls back to the context: the messages are read where the context holds them.
            return OTTLCompiledCondition { (context: inout Self) throws(OTTLRuntimeError) -> Bool in
                try compiled.test(context.levels, general: WireCondition.noGeneral)
            }
        }
        return OTTLCompiledCondition { (context: inout Self) throws(OTTLRuntimeError) -> Bool in
            try compiled.test(context.levels) { (condition) throws(OTTLRuntimeError) -> Bool in try OTTLEvaluator.test(condition, &context) }
        }
    }
}

public typealias WireSpanContext = WireItemContext<WireSpanFields>
public typealias WireMetricContext = WireItemContext<WireMetricFields>
public typealias WireLogContext = WireItemContext<WireLogFields>

public struct WireSpanEventContext: OTTLContext {
    public static let name = SpanEventContext.name
    public static let reachable = SpanEventContext.reachable
    public static let fields = SpanEventContext.fields
    public let event: WireFields
    public let span: WireFields
    public let scope: WireFields
    public let resource: WireFields
    let cache = OTTLCache()

    public init(event: WireFields, span: WireFields, scope: WireFields, resource: WireFields) {
        self.event = event
        self.span = span
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try WireUpperLevels.get(path, scope, resource) { return upper }
        switch path.context {
        case "span": return try WireSpanFields.get(span, path)
        default: return path.field == "cache" ? try cache.get(path) : try WireSpanEventFields.get(event, path)
        }
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) { throw readOnly(path) }
}
