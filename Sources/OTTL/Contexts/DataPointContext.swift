import Foundation
import OTLP

public typealias ExponentialHistogramDataPoint = Opentelemetry_Proto_Metrics_V1_ExponentialHistogramDataPoint
public typealias SummaryDataPoint = Opentelemetry_Proto_Metrics_V1_SummaryDataPoint

/// One data point of any metric type.
public enum DataPoint: Sendable {
    case number(NumberDataPoint)
    case histogram(HistogramDataPoint)
    case exponentialHistogram(ExponentialHistogramDataPoint)
    case summary(SummaryDataPoint)
}

extension DataPoint {
    public var attributes: [KeyValue] {
        get {
            switch self {
            case .number(let p): p.attributes
            case .histogram(let p): p.attributes
            case .exponentialHistogram(let p): p.attributes
            case .summary(let p): p.attributes
            }
        }
        set {
            switch self {
            case .number(var p): p.attributes = newValue; self = .number(p)
            case .histogram(var p): p.attributes = newValue; self = .histogram(p)
            case .exponentialHistogram(var p): p.attributes = newValue; self = .exponentialHistogram(p)
            case .summary(var p): p.attributes = newValue; self = .summary(p)
            }
        }
    }
}

public struct DataPointContext: OTTLContext {
    public static let name = "datapoint"
    public static let reachable = ["datapoint", "metric", "scope", "resource"]
    public static let fields: Set<String> = [
        "attributes", "start_time_unix_nano", "time_unix_nano", "start_time", "time", "value_double", "value_int",
        "flags", "count", "sum", "scale", "zero_count", "bucket_counts", "explicit_bounds",
    ]
    public var point: DataPoint
    public var metric: Metric
    public var scope: InstrumentationScope
    public var resource: Resource
    var cache = OTTLCache()

    public init(point: DataPoint, metric: Metric, scope: InstrumentationScope, resource: Resource) {
        self.point = point
        self.metric = metric
        self.scope = scope
        self.resource = resource
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try UpperLevels.get(path, scope, resource) { return upper }
        if path.context == "metric" { return try MetricFields.get(metric, path) }
        switch (path.field, point) {
        case ("cache", _): return try cache.get(path)
        case ("attributes", _): return try PathValues.getMap(point.attributes, path)
        case ("start_time_unix_nano", _): return .int(Int64(bitPattern: times.start))
        case ("time_unix_nano", _): return .int(Int64(bitPattern: times.time))
        case ("start_time", _): return PathValues.time(times.start)
        case ("time", _): return PathValues.time(times.time)
        case ("value_double", .number(let p)): if case .asDouble(let d) = p.value { return .double(d) }; return .double(0)
        case ("value_int", .number(let p)): if case .asInt(let i) = p.value { return .int(i) }; return .int(0)
        case ("flags", .number(let p)): return .int(Int64(p.flags))
        case ("flags", .histogram(let p)): return .int(Int64(p.flags))
        case ("flags", .exponentialHistogram(let p)): return .int(Int64(p.flags))
        case ("flags", .summary(let p)): return .int(Int64(p.flags))
        case ("count", .histogram(let p)): return .int(Int64(bitPattern: p.count))
        case ("count", .exponentialHistogram(let p)): return .int(Int64(bitPattern: p.count))
        case ("count", .summary(let p)): return .int(Int64(bitPattern: p.count))
        case ("sum", .histogram(let p)): return .double(p.sum)
        case ("sum", .exponentialHistogram(let p)): return .double(p.sum)
        case ("sum", .summary(let p)): return .double(p.sum)
        case ("scale", .exponentialHistogram(let p)): return .int(Int64(p.scale))
        case ("zero_count", .exponentialHistogram(let p)): return .int(Int64(bitPattern: p.zeroCount))
        case ("bucket_counts", .histogram(let p)): return .list(p.bucketCounts.map { v in .with { $0.intValue = Int64(bitPattern: v) } })
        case ("explicit_bounds", .histogram(let p)): return .list(p.explicitBounds.map { v in .with { $0.doubleValue = v } })
        default: throw OTTLRuntimeError("datapoint.\(path) does not apply to this data point")
        }
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if try UpperLevels.set(path, value, &scope, &resource) { return }
        if path.context == "metric" { return try MetricFields.set(&metric, path, value) }
        switch (path.field, point) {
        case ("cache", _): try cache.set(path, value)
        case ("attributes", _):
            var map = point.attributes
            try PathValues.setMap(&map, path, value)
            point.attributes = map
        case ("value_double", .number(var p)): p.asDouble = try PathValues.double(value, path); point = .number(p)
        case ("value_int", .number(var p)): p.asInt = try PathValues.int(value, path); point = .number(p)
        case ("time_unix_nano", _), ("time", _): setTimes(time: try PathValues.nanoseconds(value, path))
        case ("start_time_unix_nano", _), ("start_time", _): setTimes(start: try PathValues.nanoseconds(value, path))
        default: throw OTTLRuntimeError("cannot set datapoint.\(path) on this data point")
        }
    }

    private var times: (start: UInt64, time: UInt64) {
        switch point {
        case .number(let p): (p.startTimeUnixNano, p.timeUnixNano)
        case .histogram(let p): (p.startTimeUnixNano, p.timeUnixNano)
        case .exponentialHistogram(let p): (p.startTimeUnixNano, p.timeUnixNano)
        case .summary(let p): (p.startTimeUnixNano, p.timeUnixNano)
        }
    }

    private mutating func setTimes(start: UInt64? = nil, time: UInt64? = nil) {
        switch point {
        case .number(var p): p.startTimeUnixNano = start ?? p.startTimeUnixNano; p.timeUnixNano = time ?? p.timeUnixNano; point = .number(p)
        case .histogram(var p): p.startTimeUnixNano = start ?? p.startTimeUnixNano; p.timeUnixNano = time ?? p.timeUnixNano; point = .histogram(p)
        case .exponentialHistogram(var p):
            p.startTimeUnixNano = start ?? p.startTimeUnixNano; p.timeUnixNano = time ?? p.timeUnixNano; point = .exponentialHistogram(p)
        case .summary(var p): p.startTimeUnixNano = start ?? p.startTimeUnixNano; p.timeUnixNano = time ?? p.timeUnixNano; point = .summary(p)
        }
    }
}
