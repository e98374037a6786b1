import Foundation
import OTLP

/// Paths of the resource, scope, span and metric levels, shared by the contexts below them.
enum ResourceFields {
    static let names: Set<String> = ["attributes", "dropped_attributes_count"]

    static func get(_ resource: Resource, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "attributes": return try PathValues.getMap(resource.attributes, path)
        case "dropped_attributes_count": return .int(Int64(resource.droppedAttributesCount))
        default: throw OTTLRuntimeError("unknown path resource.\(path)")
        }
    }

    static func set(_ resource: inout Resource, _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        switch path.field {
        case "attributes": try PathValues.editStoredMap(&resource, \.attributes, path, value)
        case "dropped_attributes_count": resource.droppedAttributesCount = UInt32(clamping: try PathValues.int(value, path))
        default: throw OTTLRuntimeError("cannot set resource.\(path)")
        }
    }
}

/// Reads and writes of `resource.*` and `scope.*` paths from the contexts below them.
enum UpperLevels {
    /// The value, or nil when the path is not of the resource or scope.
    static func get(_ path: OTTLPath, _ scope: InstrumentationScope, _ resource: Resource) throws(OTTLRuntimeError) -> OTTLValue? {
        switch path.context {
        case "resource": try ResourceFields.get(resource, path)
        case "scope": try ScopeFields.get(scope, path)
        default: nil
        }
    }

    /// Whether the path was of the resource or scope (and so written).
    static func set(_ path: OTTLPath, _ value: OTTLValue, _ scope: inout InstrumentationScope, _ resource: inout Resource) throws(OTTLRuntimeError) -> Bool {
        switch path.context {
        case "resource": try ResourceFields.set(&resource, path, value)
        case "scope": try ScopeFields.set(&scope, path, value)
        default: return false
        }
        return true
    }
}

enum ScopeFields {
    static let names: Set<String> = ["name", "version", "attributes", "dropped_attributes_count"]

    static func get(_ scope: InstrumentationScope, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "name": return .string(scope.name)
        case "version": return .string(scope.version)
        case "attributes": return try PathValues.getMap(scope.attributes, path)
        case "dropped_attributes_count": return .int(Int64(scope.droppedAttributesCount))
        default: throw OTTLRuntimeError("unknown path scope.\(path)")
        }
    }

    static func set(_ scope: inout InstrumentationScope, _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        switch path.field {
        case "name": scope.name = try PathValues.string(value, path)
        case "version": scope.version = try PathValues.string(value, path)
        case "attributes": try PathValues.editStoredMap(&scope, \.attributes, path, value)
        case "dropped_attributes_count": scope.droppedAttributesCount = UInt32(clamping: try PathValues.int(value, path))
        default: throw OTTLRuntimeError("cannot set scope.\(path)")
        }
    }
}

public enum SpanFields: OTTLItemFields {
    public static let name = "span"
    public static let names: Set<String> = [
        "trace_id", "span_id", "parent_span_id", "trace_state", "status", "name", "kind", "start_time_unix_nano",
        "end_time_unix_nano", "start_time", "end_time", "attributes", "dropped_attributes_count", "dropped_events_count",
        "dropped_links_count", "flags",
    ]

    public static func get(_ span: Span, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "trace_id": return PathValues.id(span.traceID, path)
        case "span_id": return PathValues.id(span.spanID, path)
        case "parent_span_id": return PathValues.id(span.parentSpanID, path)
        case "trace_state": return PathValues.traceState(span.traceState, path)
        case "status":
            switch path.subfield {
            case "code": return .int(Int64(span.status.code.rawValue))
            case "message": return .string(span.status.message)
            default: throw OTTLRuntimeError("use status.code or status.message")
            }
        case "name": return .string(span.name)
        case "kind": return path.subfield == "string" ? .string(span.kind.displayName) : .int(Int64(span.kind.rawValue))
        case "start_time_unix_nano": return .int(Int64(bitPattern: span.startTimeUnixNano))
        case "end_time_unix_nano": return .int(Int64(bitPattern: span.endTimeUnixNano))
        case "start_time": return PathValues.time(span.startTimeUnixNano)
        case "end_time": return PathValues.time(span.endTimeUnixNano)
        case "attributes": return try PathValues.getMap(span.attributes, path)
        case "dropped_attributes_count": return .int(Int64(span.droppedAttributesCount))
        case "dropped_events_count": return .int(Int64(span.droppedEventsCount))
        case "dropped_links_count": return .int(Int64(span.droppedLinksCount))
        case "flags": return .int(Int64(span.flags))
        default: throw OTTLRuntimeError("unknown path span.\(path)")
        }
    }

    public static func set(_ span: inout Span, _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        switch path.field {
        case "trace_id": span.traceID = try PathValues.bytes(value, path, count: 16)
        case "span_id": span.spanID = try PathValues.bytes(value, path, count: 8)
        case "parent_span_id": span.parentSpanID = try PathValues.bytes(value, path, count: 8)
        case "trace_state": span.traceState = try PathValues.string(value, path)
        case "status":
            switch path.subfield {
            case "code": span.status.code = .init(rawValue: Int(try PathValues.int(value, path))) ?? .unset
            case "message": span.status.message = try PathValues.string(value, path)
            default: throw OTTLRuntimeError("use status.code or status.message")
            }
        case "name": span.name = try PathValues.string(value, path)
        case "kind": span.kind = .init(rawValue: Int(try PathValues.int(value, path))) ?? .unspecified
        case "start_time_unix_nano", "start_time": span.startTimeUnixNano = try PathValues.nanoseconds(value, path)
        case "end_time_unix_nano", "end_time": span.endTimeUnixNano = try PathValues.nanoseconds(value, path)
        case "attributes": try PathValues.editStoredMap(&span, \.attributes, path, value)
        case "dropped_attributes_count": span.droppedAttributesCount = UInt32(clamping: try PathValues.int(value, path))
        case "dropped_events_count": span.droppedEventsCount = UInt32(clamping: try PathValues.int(value, path))
        case "dropped_links_count": span.droppedLinksCount = UInt32(clamping: try PathValues.int(value, path))
        case "flags": span.flags = UInt32(clamping: try PathValues.int(value, path))
        default: throw OTTLRuntimeError("cannot set span.\(path)")
        }
    }

}

public enum MetricFields: OTTLItemFields {
    public static let name = "metric"
    public static let names: Set<String> = ["name", "description", "unit", "type", "aggregation_temporality", "is_monotonic"]

    public static func get(_ metric: Metric, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "name": return .string(metric.name)
        case "description": return .string(metric.description_p)
        case "unit": return .string(metric.unit)
        case "type":
            let type: Int64 = switch metric.data {
            case .gauge: 1
            case .sum: 2
            case .histogram: 3
            case .exponentialHistogram: 4
            case .summary: 5
            case nil: 0
            }
            return .int(type)
        case "aggregation_temporality":
            let temporality = switch metric.data {
            case .sum(let s): s.aggregationTemporality.rawValue
            case .histogram(let h): h.aggregationTemporality.rawValue
            case .exponentialHistogram(let e): e.aggregationTemporality.rawValue
            default: 0
            }
            return .int(Int64(temporality))
        case "is_monotonic":
            if case .sum(let s) = metric.data { return .bool(s.isMonotonic) }
            return .bool(false)
        default: throw OTTLRuntimeError("unknown path metric.\(path)")
        }
    }

    public static func set(_ metric: inout Metric, _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        switch path.field {
        case "name": metric.name = try PathValues.string(value, path)
        case "description": metric.description_p = try PathValues.string(value, path)
        case "unit": metric.unit = try PathValues.string(value, path)
        case "aggregation_temporality":
            let temporality = Opentelemetry_Proto_Metrics_V1_AggregationTemporality(rawValue: Int(try PathValues.int(value, path))) ?? .unspecified
            switch metric.data {
            case .sum(var s): s.aggregationTemporality = temporality; metric.data = .sum(s)
            case .histogram(var h): h.aggregationTemporality = temporality; metric.data = .histogram(h)
            case .exponentialHistogram(var e): e.aggregationTemporality = temporality; metric.data = .exponentialHistogram(e)
            default: break
            }
        case "is_monotonic":
            guard case .bool(let flag) = value else { throw OTTLRuntimeError("\(path) takes a bool") }
            if case .sum(var s) = metric.data { s.isMonotonic = flag; metric.data = .sum(s) }
        default: throw OTTLRuntimeError("cannot set metric.\(path)")
        }
    }
}

public enum LogFields: OTTLItemFields {
    public static let name = "log"
    public static let names: Set<String> = [
        "time_unix_nano", "observed_time_unix_nano", "time", "observed_time", "severity_number", "severity_text", "body",
        "attributes", "dropped_attributes_count", "flags", "trace_id", "span_id", "event_name",
    ]

    public static func get(_ log: LogRecord, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
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

    public static func set(_ log: inout LogRecord, _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        switch path.field {
        case "time_unix_nano", "time": log.timeUnixNano = try PathValues.nanoseconds(value, path)
        case "observed_time_unix_nano", "observed_time": log.observedTimeUnixNano = try PathValues.nanoseconds(value, path)
        case "severity_number": log.severityNumber = .init(rawValue: Int(try PathValues.int(value, path))) ?? .unspecified
        case "severity_text": log.severityText = try PathValues.string(value, path)
        case "body":
            let updated = try PathValues.assign(OTTLValue(log.body), path.keys[...], value)
            log.body = updated.anyValue ?? AnyValue()
        case "attributes": try PathValues.editStoredMap(&log, \.attributes, path, value)
        case "dropped_attributes_count": log.droppedAttributesCount = UInt32(clamping: try PathValues.int(value, path))
        case "flags": log.flags = UInt32(clamping: try PathValues.int(value, path))
        case "trace_id": log.traceID = try PathValues.bytes(value, path, count: 16)
        case "span_id": log.spanID = try PathValues.bytes(value, path, count: 8)
        case "event_name": log.eventName = try PathValues.string(value, path)
        default: throw OTTLRuntimeError("cannot set log.\(path)")
        }
    }
}

/// The fields of one level's item, for the context of that level (`ItemContext`).
public protocol OTTLItemFields {
    associatedtype Item
    static var name: String { get }
    static var names: Set<String> { get }
    static func get(_ item: Item, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue
    static func set(_ item: inout Item, _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError)
}
