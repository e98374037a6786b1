import SwiftProtobuf

/// The resource → scope → item nesting the three signals share, so processors and the encoder
/// walk it once for all of them. The presence flags, schema URL and unknown fields are the
/// generated messages' own.
public protocol ScopeEntry: SwiftProtobuf.Message {
    associatedtype Item: SwiftProtobuf.Message
    var scope: InstrumentationScope { get set }
    var hasScope: Bool { get }
    var items: [Item] { get set }
    var schemaURL: String { get }
}

public protocol ResourceEntry: SwiftProtobuf.Message {
    associatedtype Scope: ScopeEntry
    var resource: Resource { get set }
    var hasResource: Bool { get }
    var scopes: [Scope] { get set }
    var schemaURL: String { get }
}

// `_modify` lends the stored array itself to a change made through the protocol. With only get
// and set, `entries[r].scopes[s].items[i] = …` copies the whole item array once per item changed
// (the getter's copy is not unique), which made processors quadratic in the items of a scope.
extension ScopeSpans: ScopeEntry { public var items: [Span] { get { spans } _modify { yield &spans } set { spans = newValue } } }
extension ScopeLogs: ScopeEntry { public var items: [LogRecord] { get { logRecords } _modify { yield &logRecords } set { logRecords = newValue } } }
extension ScopeMetrics: ScopeEntry { public var items: [Metric] { get { metrics } _modify { yield &metrics } set { metrics = newValue } } }
extension ResourceSpans: ResourceEntry {
    public var scopes: [ScopeSpans] { get { scopeSpans } _modify { yield &scopeSpans } set { scopeSpans = newValue } }
}
extension ResourceLogs: ResourceEntry {
    public var scopes: [ScopeLogs] { get { scopeLogs } _modify { yield &scopeLogs } set { scopeLogs = newValue } }
}
extension ResourceMetrics: ResourceEntry {
    public var scopes: [ScopeMetrics] { get { scopeMetrics } _modify { yield &scopeMetrics } set { scopeMetrics = newValue } }
}
