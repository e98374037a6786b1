import OTLP
import OTTL

/// Running span and log record statements on an encoded batch: when every group of the signal
/// is an item group whose statements write only the item's attributes (or `cache`), each item's
/// attributes become a `WireAttributeList`, the statements read everything else where it lies,
/// and only items whose attributes changed are written again (`WireRewrite`). Any other
/// configuration, a decoded batch, or an irregular encoding takes the model path.
struct TransformEncodedPlan: Sendable {
    let spans: [OTTLGroup<WireSpanEditContext>]?
    let logs: [OTTLGroup<WireLogEditContext>]?

    init(_ plan: TransformPlan) {
        spans = Self.itemGroups(plan.traces) { if case .span(let group) = $0 { group } else { nil } }
        logs = Self.itemGroups(plan.logs) { if case .log(let group) = $0 { group } else { nil } }
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
        switch signal {
        case .traces: try Self.run(spans ?? [], signal, bytes, itemCount, after, report)
        case .logs: try Self.run(logs ?? [], signal, bytes, itemCount, after, report)
        case .metrics: nil
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
