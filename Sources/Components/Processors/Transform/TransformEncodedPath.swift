import OTLP
import OTTL

/// Running span and log record statements on an encoded batch: when every group of the signal
/// is an item group whose statements write only the item's attributes (or `cache`), each item's
/// attributes become a `WireAttributeList`, the statements read everything else where it lies,
/// and only items whose attributes changed are written again (`WireRewrite`). Any other
/// configuration, a decoded batch, or an irregular encoding takes the model path.
///
/// Statements that only set, delete, rewrite and truncate attributes with constants run in one
/// walk over each item instead (`WireStreamedEdits`), without an attribute list.
struct TransformEncodedPlan: Sendable {
    let spans: [OTTLGroup<WireSpanEditContext>]?
    let logs: [OTTLGroup<WireLogEditContext>]?
    let streamedSpans: WireStreamedEdits?
    let streamedLogs: WireStreamedEdits?

    init(_ plan: TransformPlan) {
        spans = Self.itemGroups(plan.traces) { if case .span(let group) = $0 { group } else { nil } }
        logs = Self.itemGroups(plan.logs) { if case .log(let group) = $0 { group } else { nil } }
        streamedSpans = spans.flatMap(WireStreamedEdits.init)
        streamedLogs = logs.flatMap(WireStreamedEdits.init)
    }

    /// The signal's groups for the encoded context, or nil when one of them needs the model.
    private static func itemGroups<Group, Model: OTTLContext, Fields>(
        _ groups: [Group], _ item: (Group) -> OTTLGroup<Model>?
    ) -> [OTTLGroup<WireItemEditContext<Fields>>]? {
        var encoded: [OTTLGroup<WireItemEditContext<Fields>>] = []
        for group in groups {
            guard let group = item(group), group.program.writesOnlyItemAttributes else { return nil }
            encoded.append(OTTLGroup(group))
        }
        return encoded.isEmpty ? nil : encoded
    }

    /// The signal's statements in one walk over each item, when they allow it.
    func streamed(_ signal: Signal) -> WireStreamedEdits? {
        switch signal {
        case .traces: streamedSpans
        case .logs: streamedLogs
        case .metrics: nil
        }
    }

    func handles(_ signal: Signal) -> Bool {
        switch signal {
        case .traces: spans != nil
        case .logs: logs != nil
        case .metrics: false
        }
    }

    /// The request with the changed items written again, or nil when no item changed. `after`
    /// changes each item's attributes once the statements ran.
    func run(_ signal: Signal, _ bytes: [UInt8], itemCount: Int, then after: ((inout WireAttributeList) -> Void)? = nil,
             _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        if after == nil, let edits = streamed(signal) { return try Self.run(edits, signal, bytes, itemCount, report) }
        switch signal {
        case .traces: return try Self.run(spans ?? [], signal, bytes, itemCount, after, report)
        case .logs: return try Self.run(logs ?? [], signal, bytes, itemCount, after, report)
        case .metrics: return nil
        }
    }

    private static func run(_ edits: WireStreamedEdits, _ signal: Signal, _ bytes: [UInt8], _ itemCount: Int,
                            _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        var scratch = WireStreamedEdits.Scratch()
        return try WireRewrite.rewrite(signal, bytes, itemCount: itemCount, dropsEmpty: false, indexed: edits.readsLevels,
                                       keepResource: { _ in true }, keepScope: { _, _ in true }) { item, scope, resource, bodies in
            try edits.apply(item, scope: scope, resource: resource, into: &bodies, scratch: &scratch, report: report)
        }
    }

    private static func run<Fields>(_ groups: [OTTLGroup<WireItemEditContext<Fields>>], _ signal: Signal, _ bytes: [UInt8],
                                    _ itemCount: Int, _ after: ((inout WireAttributeList) -> Void)?,
                                    _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        // One context for every item, holding one attribute list whose storage every item reuses.
        var context = WireItemEditContext<Fields>(.empty, scope: .empty, resource: .empty, attributes: WireAttributeList())
        return try WireRewrite.rewrite(signal, bytes, itemCount: itemCount, dropsEmpty: false,
                                       keepResource: { _ in true }, keepScope: { _, _ in true }) { item, scope, resource, bodies in
            context.reset(item, scope: scope, resource: resource)
            // Each group sees the attributes as the groups before it left them, with its own cache.
            for group in groups {
                context.clearCache()
                try group.execute(&context, report: report)
            }
            after?(&context.attributes)
            return context.attributes.decision(writingInto: &bodies)
        }
    }
}
