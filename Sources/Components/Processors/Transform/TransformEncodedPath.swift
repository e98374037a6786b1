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
    /// changes each item's attributes once the statements ran; `streamedAfter`, the same actions
    /// in one walk, lets statements that run in one walk take them into theirs.
    func run(_ signal: Signal, _ bytes: [UInt8], itemCount: Int, then after: ((inout WireAttributeList) -> Void)? = nil,
             streamedAfter: StreamedAttributeActions? = nil,
             _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        if let edits = streamed(signal) {
            if after == nil { return try Self.run(edits, signal, bytes, itemCount, report) }
            if let streamedAfter {
                let both = StreamedTransformAndAttributes(edits: edits, actions: streamedAfter)
                switch signal {
                case .traces: return try Self.run(both, listPath: spans ?? [], after, signal, bytes, itemCount, report)
                case .logs: return try Self.run(both, listPath: logs ?? [], after, signal, bytes, itemCount, report)
                case .metrics: return nil
                }
            }
        }
        switch signal {
        case .traces: return try Self.run(spans ?? [], signal, bytes, itemCount, after, report)
        case .logs: return try Self.run(logs ?? [], signal, bytes, itemCount, after, report)
        case .metrics: return nil
        }
    }

    /// The rewrite every path runs: items changed by `item`, no container dropped.
    private static func rewrite(_ signal: Signal, _ bytes: [UInt8], _ itemCount: Int, indexed: Bool,
                                item: (_ item: WireFields, _ scope: WireFields, _ resource: WireFields, _ bodies: inout WireWriter)
                                    throws -> WireItemDecision) throws -> (bytes: [UInt8], items: Int)? {
        try WireRewrite.rewrite(signal, bytes, itemCount: itemCount, dropsEmpty: false, indexed: indexed,
                                keepResource: { _ in true }, keepScope: { _, _ in true }, item: item)
    }

    private static func run(_ edits: WireStreamedEdits, _ signal: Signal, _ bytes: [UInt8], _ itemCount: Int,
                            _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        var scratch = WireStreamedEdits.Scratch()
        return try rewrite(signal, bytes, itemCount, indexed: edits.readsLevels) { item, scope, resource, bodies in
            try edits.apply(item, scope: scope, resource: resource, into: &bodies, scratch: &scratch, report: report)
        }
    }

    /// Statements and the following actions in one walk, items it cannot change on the list.
    private static func run<Fields>(_ both: StreamedTransformAndAttributes, listPath groups: [OTTLGroup<WireItemEditContext<Fields>>],
                                    _ after: ((inout WireAttributeList) -> Void)?, _ signal: Signal, _ bytes: [UInt8],
                                    _ itemCount: Int, _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        var scratch = StreamedTransformAndAttributes.Scratch()
        var context = WireItemEditContext<Fields>(.empty, scope: .empty, resource: .empty, attributes: WireAttributeList())
        return try rewrite(signal, bytes, itemCount, indexed: both.edits.readsLevels) { item, scope, resource, bodies in
            if let decision = try both.apply(item, scope: scope, resource: resource, into: &bodies, scratch: &scratch, report: report) {
                return decision
            }
            let indexed = try WireFields(item.buffer, item.range, singularMessages: WireRewrite.itemSingularMessages(signal),
                                         firstOf: both.edits.field)
            guard !indexed.isIrregular else { throw WireIrregularMessage() }
            return try onList(indexed, scope, resource, &context, groups, after, &bodies, report)
        }
    }

    private static func run<Fields>(_ groups: [OTTLGroup<WireItemEditContext<Fields>>], _ signal: Signal, _ bytes: [UInt8],
                                    _ itemCount: Int, _ after: ((inout WireAttributeList) -> Void)?,
                                    _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        // One context for every item, holding one attribute list whose storage every item reuses.
        var context = WireItemEditContext<Fields>(.empty, scope: .empty, resource: .empty, attributes: WireAttributeList())
        return try rewrite(signal, bytes, itemCount, indexed: true) { item, scope, resource, bodies in
            try onList(item, scope, resource, &context, groups, after, &bodies, report)
        }
    }

    /// One item's statements, then `after`, on its attribute list.
    private static func onList<Fields>(_ item: WireFields, _ scope: WireFields, _ resource: WireFields,
                                       _ context: inout WireItemEditContext<Fields>, _ groups: [OTTLGroup<WireItemEditContext<Fields>>],
                                       _ after: ((inout WireAttributeList) -> Void)?, _ bodies: inout WireWriter,
                                       _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) -> WireItemDecision {
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
