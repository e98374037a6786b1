import OTLP
import OTTL

extension Metric {
    /// Replaces each data point with what `transform` makes of it; nil removes the point.
    mutating func mapPoints<E: Error>(_ transform: (DataPoint) throws(E) -> DataPoint?) throws(E) {
        switch data {
        case .gauge(var g):
            g.dataPoints = try Self.mapped(g.dataPoints, DataPoint.number, { if case .number(let p) = $0 { p } else { nil } }, transform)
            data = .gauge(g)
        case .sum(var s):
            s.dataPoints = try Self.mapped(s.dataPoints, DataPoint.number, { if case .number(let p) = $0 { p } else { nil } }, transform)
            data = .sum(s)
        case .histogram(var h):
            h.dataPoints = try Self.mapped(h.dataPoints, DataPoint.histogram, { if case .histogram(let p) = $0 { p } else { nil } }, transform)
            data = .histogram(h)
        case .exponentialHistogram(var e):
            e.dataPoints = try Self.mapped(e.dataPoints, DataPoint.exponentialHistogram, { if case .exponentialHistogram(let p) = $0 { p } else { nil } }, transform)
            data = .exponentialHistogram(e)
        case .summary(var s):
            s.dataPoints = try Self.mapped(s.dataPoints, DataPoint.summary, { if case .summary(let p) = $0 { p } else { nil } }, transform)
            data = .summary(s)
        case nil:
            break
        }
    }

    private static func mapped<P, E: Error>(_ points: [P], _ wrap: (P) -> DataPoint, _ unwrap: (DataPoint) -> P?,
                                            _ transform: (DataPoint) throws(E) -> DataPoint?) throws(E) -> [P] {
        var out: [P] = []
        out.reserveCapacity(points.count)
        for point in points {
            if let result = try transform(wrap(point)), let unwrapped = unwrap(result) { out.append(unwrapped) }
        }
        return out
    }
}
