import OTLP

/// The paths of each level read from its encoded message; the same names and values as
/// `LevelFields.swift` gives from the model. Field numbers are those of proto/.
enum WireResourceFields {
    static func get(_ resource: WireFields, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "attributes": return try WireValues.getMap(resource, 1, path)
        case "dropped_attributes_count": return WireValues.uint32(resource, 2)
        default: throw OTTLRuntimeError("unknown path resource.\(path)")
        }
    }
}

enum WireScopeFields {
    static func get(_ scope: WireFields, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "name": return .string(scope.string(1))
        case "version": return .string(scope.string(2))
        case "attributes": return try WireValues.getMap(scope, 3, path)
        case "dropped_attributes_count": return WireValues.uint32(scope, 4)
        default: throw OTTLRuntimeError("unknown path scope.\(path)")
        }
    }
}

enum WireUpperLevels {
    /// The value, or nil when the path is not of the resource or scope.
    static func get(_ path: OTTLPath, _ scope: WireFields, _ resource: WireFields) throws(OTTLRuntimeError) -> OTTLValue? {
        switch path.context {
        case "resource": try WireResourceFields.get(resource, path)
        case "scope": try WireScopeFields.get(scope, path)
        default: nil
        }
    }
}

public enum WireSpanFields: WireItemFields {
    public static let name = SpanFields.name
    public static let names = SpanFields.names
    public static let attributesField = 9

    public static func get(_ span: WireFields, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "trace_id": return WireValues.id(span, 1, path)
        case "span_id": return WireValues.id(span, 2, path)
        case "parent_span_id": return WireValues.id(span, 4, path)
        case "trace_state": return PathValues.traceState(span.string(3), path)
        case "status":
            let status: WireFields
            do { status = try span.message(15) } catch { throw OTTLRuntimeError("\(error)") }
            switch path.subfield {
            case "code": return WireValues.int32(status, 3)
            case "message": return .string(status.string(2))
            default: throw OTTLRuntimeError("use status.code or status.message")
            }
        case "name": return .string(span.string(5))
        case "kind":
            let kind = Int(Int32(truncatingIfNeeded: span.uint(6)))
            return path.subfield == "string" ? .string((Span.SpanKind(rawValue: kind) ?? .unspecified).displayName) : .int(Int64(kind))
        case "start_time_unix_nano": return WireValues.int64(span, 7)
        case "end_time_unix_nano": return WireValues.int64(span, 8)
        case "start_time": return PathValues.time(span.uint(7))
        case "end_time": return PathValues.time(span.uint(8))
        case "attributes": return try WireValues.getMap(span, 9, path)
        case "dropped_attributes_count": return WireValues.uint32(span, 10)
        case "dropped_events_count": return WireValues.uint32(span, 12)
        case "dropped_links_count": return WireValues.uint32(span, 14)
        case "flags": return WireValues.uint32(span, 16)
        default: throw OTTLRuntimeError("unknown path span.\(path)")
        }
    }
}

public enum WireMetricFields: WireItemFields {
    public static let name = MetricFields.name
    public static let names = MetricFields.names
    public static let attributesField = 0

    /// The data member of the metric (the last present, as a oneof decodes): 5 gauge, 7 sum,
    /// 9 histogram, 10 exponential histogram, 11 summary; 0 when none.
    static func dataField(_ metric: WireFields) -> Int { metric.lastPresent([5, 7, 9, 10, 11]) ?? 0 }

    public static func get(_ metric: WireFields, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "name": return .string(metric.string(1))
        case "description": return .string(metric.string(2))
        case "unit": return .string(metric.string(3))
        case "type":
            let type: Int64 = switch dataField(metric) {
            case 5: 1
            case 7: 2
            case 9: 3
            case 10: 4
            case 11: 5
            default: 0
            }
            return .int(type)
        case "aggregation_temporality", "is_monotonic":
            let member = dataField(metric)
            let data: WireFields
            do { data = try metric.message(member) } catch { throw OTTLRuntimeError("\(error)") }
            if path.field == "is_monotonic" { return .bool(member == 7 && data.uint(3) != 0) }
            return [7, 9, 10].contains(member) ? WireValues.int32(data, 2) : .int(0)
        default: throw OTTLRuntimeError("unknown path metric.\(path)")
        }
    }
}

public enum WireLogFields: WireItemFields {
    public static let name = LogFields.name
    public static let names = LogFields.names
    public static let attributesField = 6

    public static func get(_ log: WireFields, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "time_unix_nano": return WireValues.int64(log, 1)
        case "observed_time_unix_nano": return WireValues.int64(log, 11)
        case "time": return PathValues.time(log.uint(1))
        case "observed_time": return PathValues.time(log.uint(11))
        case "severity_number": return WireValues.int32(log, 2)
        case "severity_text": return .string(log.string(3))
        case "body":
            let body = log.has(5) ? try WireValues.value(log.buffer, log.bytesRange(5)) : .none
            return try PathValues.lookup(body, path.keys[...])
        case "attributes": return try WireValues.getMap(log, 6, path)
        case "dropped_attributes_count": return WireValues.uint32(log, 7)
        case "flags": return WireValues.uint32(log, 8)
        case "trace_id": return WireValues.id(log, 9, path)
        case "span_id": return WireValues.id(log, 10, path)
        case "event_name": return .string(log.string(12))
        default: throw OTTLRuntimeError("unknown path log.\(path)")
        }
    }
}

enum WireSpanEventFields {
    static func get(_ event: WireFields, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        switch path.field {
        case "name": return .string(event.string(2))
        case "time_unix_nano": return WireValues.int64(event, 1)
        case "time": return PathValues.time(event.uint(1))
        case "attributes": return try WireValues.getMap(event, 3, path)
        case "dropped_attributes_count": return WireValues.uint32(event, 4)
        default: throw OTTLRuntimeError("unknown path spanevent.\(path)")
        }
    }
}

/// The fields of one level's encoded item, for `WireItemContext`.
public protocol WireItemFields {
    static var name: String { get }
    static var names: Set<String> { get }
    /// The number of the item's repeated KeyValue attributes field (0: it has none).
    static var attributesField: Int { get }
    static func get(_ item: WireFields, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue
}
