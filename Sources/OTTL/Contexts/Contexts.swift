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

public struct SpanContext: OTTLContext {
    public static let name = "span"
    public static let reachable = ["span", "scope", "resource"]
    public static let fields = SpanFields.names
    public var span: Span
    public var scope: InstrumentationScope
    public var resource: Resource
    var cache = OTTLCache()

    public init(span: Span, scope: InstrumentationScope, resource: Resource) {
        self.span = span
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try UpperLevels.get(path, scope, resource) { return upper }
        return path.field == "cache" ? try cache.get(path) : try SpanFields.get(span, path)
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if try UpperLevels.set(path, value, &scope, &resource) { return }
        if path.field == "cache" { try cache.set(path, value) } else { try SpanFields.set(&span, path, value) }
    }
}

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
            case "attributes": try PathValues.editStoredMap(&event.attributes, path, value)
            case "dropped_attributes_count": event.droppedAttributesCount = UInt32(clamping: try PathValues.int(value, path))
            default: throw OTTLRuntimeError("cannot set spanevent.\(path)")
            }
        }
    }
}

public struct LogContext: OTTLContext {
    public static let name = "log"
    public static let reachable = ["log", "scope", "resource"]
    public static let fields: Set<String> = [
        "time_unix_nano", "observed_time_unix_nano", "time", "observed_time", "severity_number", "severity_text", "body",
        "attributes", "dropped_attributes_count", "flags", "trace_id", "span_id", "event_name",
    ]
    public var log: LogRecord
    public var scope: InstrumentationScope
    public var resource: Resource
    var cache = OTTLCache()

    public init(log: LogRecord, scope: InstrumentationScope, resource: Resource) {
        self.log = log
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try UpperLevels.get(path, scope, resource) { return upper }
        switch path.field {
        case "cache": return try cache.get(path)
        case "time_unix_nano": return .int(Int64(bitPattern: log.timeUnixNano))
        case "observed_time_unix_nano": return .int(Int64(bitPattern: log.observedTimeUnixNano))
        case "time": return PathValues.time(log.timeUnixNano)
        case "observed_time": return PathValues.time(log.observedTimeUnixNano)
        case "severity_number": return .int(Int64(log.severityNumber.rawValue))
        case "severity_text": return .string(log.severityText)
        case "body": return try PathValues.lookup(OTTLValue(log.body), path.keys[...])
        case "attributes": return try PathValues.getMap(log.attributes, path)
        case "dropped_attributes_count": return .int(Int64(log.droppedAttributesCount))
        case "flags": return .int(Int64(log.flags))
        case "trace_id": return PathValues.id(log.traceID, path)
        case "span_id": return PathValues.id(log.spanID, path)
        case "event_name": return .string(log.eventName)
        default: throw OTTLRuntimeError("unknown path log.\(path)")
        }
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if try UpperLevels.set(path, value, &scope, &resource) { return }
        switch path.field {
        case "cache": try cache.set(path, value)
        case "time_unix_nano", "time": log.timeUnixNano = try PathValues.nanoseconds(value, path)
        case "observed_time_unix_nano", "observed_time": log.observedTimeUnixNano = try PathValues.nanoseconds(value, path)
        case "severity_number": log.severityNumber = .init(rawValue: Int(try PathValues.int(value, path))) ?? .unspecified
        case "severity_text": log.severityText = try PathValues.string(value, path)
        case "body":
            let updated = try PathValues.assign(OTTLValue(log.body), path.keys[...], value)
            log.body = updated.anyValue ?? AnyValue()
        case "attributes": try PathValues.editStoredMap(&log.attributes, path, value)
        case "dropped_attributes_count": log.droppedAttributesCount = UInt32(clamping: try PathValues.int(value, path))
        case "flags": log.flags = UInt32(clamping: try PathValues.int(value, path))
        case "trace_id": log.traceID = try PathValues.bytes(value, path, count: 16)
        case "span_id": log.spanID = try PathValues.bytes(value, path, count: 8)
        case "event_name": log.eventName = try PathValues.string(value, path)
        default: throw OTTLRuntimeError("cannot set log.\(path)")
        }
    }
}

public struct MetricContext: OTTLContext {
    public static let name = "metric"
    public static let reachable = ["metric", "scope", "resource"]
    public static let fields = MetricFields.names
    public var metric: Metric
    public var scope: InstrumentationScope
    public var resource: Resource
    var cache = OTTLCache()

    public init(metric: Metric, scope: InstrumentationScope, resource: Resource) {
        self.metric = metric
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try UpperLevels.get(path, scope, resource) { return upper }
        return path.field == "cache" ? try cache.get(path) : try MetricFields.get(metric, path)
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if try UpperLevels.set(path, value, &scope, &resource) { return }
        if path.field == "cache" { try cache.set(path, value) } else { try MetricFields.set(&metric, path, value) }
    }
}
