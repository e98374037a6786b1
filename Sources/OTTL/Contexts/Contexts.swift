import Foundation
import OTLP

/// The per-item scratch map (`cache`) every context has.
public struct OTTLCache: Sendable {
    var entries: [KeyValue] = []

    func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue { try PathValues.getMap(entries, path) }
    mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) { try PathValues.setMap(&entries, path, value) }
}

public struct ResourceContext: OTTLContext {
    public static let name = "resource"
    public static let reachable = ["resource"]
    public static let fields = ResourceFields.names
    public var resource: Resource
    var cache = OTTLCache()

    public init(resource: Resource) { self.resource = resource }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if path.field == "cache" { return try cache.get(path) }
        return try ResourceFields.get(resource, path)
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if path.field == "cache" { return try cache.set(path, value) }
        try ResourceFields.set(&resource, path, value)
    }
}

public struct ScopeContext: OTTLContext {
    public static let name = "scope"
    public static let reachable = ["scope", "resource"]
    public static let fields = ScopeFields.names
    public var scope: InstrumentationScope
    public var resource: Resource
    var cache = OTTLCache()

    public init(scope: InstrumentationScope, resource: Resource) {
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        switch path.context {
        case "resource": return try ResourceFields.get(resource, path)
        default: return path.field == "cache" ? try cache.get(path) : try ScopeFields.get(scope, path)
        }
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        switch path.context {
        case "resource": try ResourceFields.set(&resource, path, value)
        default: if path.field == "cache" { try cache.set(path, value) } else { try ScopeFields.set(&scope, path, value) }
        }
    }
}


/// The context of an item under its scope and resource (span, metric, log): the item's own
/// fields come from `Fields`; scope, resource and `cache` are the same for all three.
public struct ItemContext<Fields: OTTLItemFields>: OTTLContext {
    public static var name: String { Fields.name }
    public static var reachable: [String] { [Fields.name, "scope", "resource"] }
    public static var fields: Set<String> { Fields.names }
    public var item: Fields.Item
    public var scope: InstrumentationScope
    public var resource: Resource
    var cache = OTTLCache()

    public init(_ item: Fields.Item, scope: InstrumentationScope, resource: Resource) {
        self.item = item
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try UpperLevels.get(path, scope, resource) { return upper }
        return path.field == "cache" ? try cache.get(path) : try Fields.get(item, path)
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if try UpperLevels.set(path, value, &scope, &resource) { return }
        if path.field == "cache" { try cache.set(path, value) } else { try Fields.set(&item, path, value) }
    }
}

public typealias SpanContext = ItemContext<SpanFields>
public typealias MetricContext = ItemContext<MetricFields>
public typealias LogContext = ItemContext<LogFields>

public struct SpanEventContext: OTTLContext {
    public static let name = "spanevent"
    public static let reachable = ["spanevent", "span", "scope", "resource"]
    public static let fields: Set<String> = ["name", "time_unix_nano", "time", "attributes", "dropped_attributes_count"]
    public var event: Span.Event
    public var span: Span
    public var scope: InstrumentationScope
    public var resource: Resource
    var cache = OTTLCache()

    public init(event: Span.Event, span: Span, scope: InstrumentationScope, resource: Resource) {
        self.event = event
        self.span = span
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try UpperLevels.get(path, scope, resource) { return upper }
        switch path.context {
        case "span": return try SpanFields.get(span, path)
        default:
            switch path.field {
            case "cache": return try cache.get(path)
            case "name": return .string(event.name)
            case "time_unix_nano": return .int(Int64(bitPattern: event.timeUnixNano))
            case "time": return PathValues.time(event.timeUnixNano)
            case "attributes": return try PathValues.getMap(event.attributes, path)
            case "dropped_attributes_count": return .int(Int64(event.droppedAttributesCount))
            default: throw OTTLRuntimeError("unknown path spanevent.\(path)")
            }
        }
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if try UpperLevels.set(path, value, &scope, &resource) { return }
        switch path.context {
        case "span": try SpanFields.set(&span, path, value)
        default:
            switch path.field {
            case "cache": try cache.set(path, value)
            case "name": event.name = try PathValues.string(value, path)
            case "time_unix_nano", "time": event.timeUnixNano = try PathValues.nanoseconds(value, path)
            case "attributes": try PathValues.editStoredMap(&event, \.attributes, path, value)
            case "dropped_attributes_count": event.droppedAttributesCount = UInt32(clamping: try PathValues.int(value, path))
            default: throw OTTLRuntimeError("cannot set spanevent.\(path)")
            }
        }
    }
}


