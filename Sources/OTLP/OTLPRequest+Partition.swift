import Foundation

/// Regrouping a request for Kafka keys: one request per trace id, or one per resource. Order is
/// kept, and each part keeps its resource and scope (with their schema URLs).
extension OTLPRequest {
    /// One request per distinct trace id, in order of first appearance. For logs, records without
    /// a trace id form one part with an empty id.
    public func splitByTraceID() -> [(traceID: Data, request: OTLPRequest)] {
        switch self {
        case .traces(let request):
            return Self.group(request.resourceSpans, scopes: \.scopeSpans, items: \.spans, id: \.traceID)
                .map { id, resources in (id, .traces(.with { $0.resourceSpans = resources })) }
        case .logs(let request):
            return Self.group(request.resourceLogs, scopes: \.scopeLogs, items: \.logRecords, id: \.traceID)
                .map { id, resources in (id, .logs(.with { $0.resourceLogs = resources })) }
        case .metrics:
            return [(Data(), self)]
        }
    }

    /// One request per resource entry, with that entry's resource.
    public func splitByResource() -> [(resource: Resource, request: OTLPRequest)] {
        switch self {
        case .traces(let r): r.resourceSpans.map { rs in (rs.resource, .traces(.with { $0.resourceSpans = [rs] })) }
        case .metrics(let r): r.resourceMetrics.map { rm in (rm.resource, .metrics(.with { $0.resourceMetrics = [rm] })) }
        case .logs(let r): r.resourceLogs.map { rl in (rl.resource, .logs(.with { $0.resourceLogs = [rl] })) }
        }
    }

    private static func group<R, S, I>(
        _ resources: [R], scopes: WritableKeyPath<R, [S]>, items: WritableKeyPath<S, [I]>, id: KeyPath<I, Data>
    ) -> [(Data, [R])] {
        var ids: [Data] = []
        var parts: [[R]] = []
        var partIndex: [Data: Int] = [:]
        for resource in resources {
            // Where each part's copy of the current resource, and of the current scope, sit.
            var placed: [Int: (resource: Int, scope: Int)] = [:]
            for (scopeIndex, scope) in resource[keyPath: scopes].enumerated() {
                for item in scope[keyPath: items] {
                    let key = item[keyPath: id]
                    let p: Int
                    if let known = partIndex[key] {
                        p = known
                    } else {
                        p = parts.count
                        partIndex[key] = p
                        ids.append(key)
                        parts.append([])
                    }
                    var slot = placed[p] ?? (resource: -1, scope: -1)
                    if slot.resource < 0 {
                        var copy = resource
                        copy[keyPath: scopes] = []
                        parts[p].append(copy)
                        slot.resource = parts[p].count - 1
                    }
                    if slot.scope != scopeIndex {
                        var scopeCopy = scope
                        scopeCopy[keyPath: items] = []
                        parts[p][slot.resource][keyPath: scopes].append(scopeCopy)
                        slot.scope = scopeIndex
                    }
                    placed[p] = slot
                    let last = parts[p][slot.resource][keyPath: scopes].count - 1
                    parts[p][slot.resource][keyPath: scopes][last][keyPath: items].append(item)
                }
            }
        }
        return Array(zip(ids, parts))
    }
}
