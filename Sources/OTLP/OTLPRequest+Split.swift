/// Splitting a request by item count, as the batch processor does for `send_batch_max_size`:
/// resources and scopes are kept whole while they fit; a container that straddles the cut is
/// copied into both halves with its items divided. Order is preserved.
extension OTLPRequest {
    /// The first `count` items and the rest.
    public func split(first count: Int) -> (head: OTLPRequest, tail: OTLPRequest) {
        switch self {
        case .traces(let request):
            let (head, tail) = Self.splitResources(request.resourceSpans, count, scopes: \.scopeSpans, items: \.spans, itemCount: { $0.spans.count })
            var h = ExportTraceServiceRequest(), t = ExportTraceServiceRequest()
            h.resourceSpans = head
            t.resourceSpans = tail
            return (.traces(h), .traces(t))
        case .logs(let request):
            let (head, tail) = Self.splitResources(request.resourceLogs, count, scopes: \.scopeLogs, items: \.logRecords, itemCount: { $0.logRecords.count })
            var h = ExportLogsServiceRequest(), t = ExportLogsServiceRequest()
            h.resourceLogs = head
            t.resourceLogs = tail
            return (.logs(h), .logs(t))
        case .metrics(let request):
            let (head, tail) = Self.splitMetricResources(request.resourceMetrics, count)
            var h = ExportMetricsServiceRequest(), t = ExportMetricsServiceRequest()
            h.resourceMetrics = head
            t.resourceMetrics = tail
            return (.metrics(h), .metrics(t))
        }
    }

    private static func splitResources<R, S, I>(
        _ resources: [R], _ count: Int, scopes: WritableKeyPath<R, [S]>, items: WritableKeyPath<S, [I]>,
        itemCount: (S) -> Int
    ) -> ([R], [R]) {
        var head: [R] = [], tail: [R] = []
        var budget = count
        for resource in resources {
            let total = resource[keyPath: scopes].reduce(0) { $0 + itemCount($1) }
            if budget == 0 { tail.append(resource); continue }
            if total <= budget { head.append(resource); budget -= total; continue }
            var h = resource, t = resource
            h[keyPath: scopes] = []
            t[keyPath: scopes] = []
            for scope in resource[keyPath: scopes] {
                let n = itemCount(scope)
                if budget == 0 { t[keyPath: scopes].append(scope) }
                else if n <= budget { h[keyPath: scopes].append(scope); budget -= n }
                else {
                    var hs = scope, ts = scope
                    hs[keyPath: items] = Array(scope[keyPath: items].prefix(budget))
                    ts[keyPath: items] = Array(scope[keyPath: items].dropFirst(budget))
                    h[keyPath: scopes].append(hs)
                    t[keyPath: scopes].append(ts)
                    budget = 0
                }
            }
            head.append(h)
            tail.append(t)
        }
        return (head, tail)
    }

    private static func splitMetricResources(_ resources: [ResourceMetrics], _ count: Int) -> ([ResourceMetrics], [ResourceMetrics]) {
        var head: [ResourceMetrics] = [], tail: [ResourceMetrics] = []
        var budget = count
        for resource in resources {
            var h = resource, t = resource
            h.scopeMetrics = []
            t.scopeMetrics = []
            for scope in resource.scopeMetrics {
                var hs = scope, ts = scope
                hs.metrics = []
                ts.metrics = []
                for metric in scope.metrics {
                    let n = metric.dataPointCount
                    if budget == 0 { ts.metrics.append(metric) }
                    else if n <= budget { hs.metrics.append(metric); budget -= n }
                    else {
                        let (a, b) = metric.split(first: budget)
                        hs.metrics.append(a)
                        ts.metrics.append(b)
                        budget = 0
                    }
                }
                if !hs.metrics.isEmpty { h.scopeMetrics.append(hs) }
                if !ts.metrics.isEmpty { t.scopeMetrics.append(ts) }
            }
            if !h.scopeMetrics.isEmpty { head.append(h) }
            if !t.scopeMetrics.isEmpty { tail.append(t) }
        }
        return (head, tail)
    }
}

extension Metric {
    /// The first `count` data points and the rest, each in a copy of the metric.
    func split(first count: Int) -> (Metric, Metric) {
        var a = self, b = self
        switch data {
        case .gauge(var g):
            let points = g.dataPoints
            g.dataPoints = Array(points.prefix(count)); a.gauge = g
            g.dataPoints = Array(points.dropFirst(count)); b.gauge = g
        case .sum(var s):
            let points = s.dataPoints
            s.dataPoints = Array(points.prefix(count)); a.sum = s
            s.dataPoints = Array(points.dropFirst(count)); b.sum = s
        case .histogram(var s):
            let points = s.dataPoints
            s.dataPoints = Array(points.prefix(count)); a.histogram = s
            s.dataPoints = Array(points.dropFirst(count)); b.histogram = s
        case .exponentialHistogram(var s):
            let points = s.dataPoints
            s.dataPoints = Array(points.prefix(count)); a.exponentialHistogram = s
            s.dataPoints = Array(points.dropFirst(count)); b.exponentialHistogram = s
        case .summary(var s):
            let points = s.dataPoints
            s.dataPoints = Array(points.prefix(count)); a.summary = s
            s.dataPoints = Array(points.dropFirst(count)); b.summary = s
        case nil:
            break
        }
        return (a, b)
    }
}
