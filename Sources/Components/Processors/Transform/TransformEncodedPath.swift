import OTLP
import OTTL

/// Running span statements on an encoded batch: when every trace group is a span group whose
/// statements write only the span's attributes (or `cache`), each span's attributes become a
/// `WireAttributeList`, the statements read everything else where it lies, and only spans whose
/// attributes changed are written again (`WireRewrite`). Any other configuration, a decoded
/// batch, or an irregular encoding takes the model path.
struct TransformEncodedPlan: Sendable {
    let spans: [OTTLGroup<WireSpanEditContext>]

    /// Nil when the trace groups need the model.
    init?(_ plan: TransformPlan) {
        var spans: [OTTLGroup<WireSpanEditContext>] = []
        for group in plan.traces {
            guard case .span(let statements) = group, statements.program.writesOnlyItemAttributes else { return nil }
            spans.append(OTTLGroup(statements))
        }
        guard !spans.isEmpty else { return nil }
        self.spans = spans
    }

    /// The request with the changed spans written again, or nil when no span changed.
    func run(_ bytes: [UInt8], itemCount: Int, _ report: (OTTLRuntimeError) -> Void) throws -> (bytes: [UInt8], items: Int)? {
        try WireRewrite.rewrite(.traces, bytes, itemCount: itemCount, dropsEmpty: false,
                                keepResource: { _ in true }, keepScope: { _, _ in true }) { span, scope, resource in
            var attributes = WireAttributeList(span, field: 9)
            // Each group sees the attributes as the groups before it left them, with its own cache.
            for group in spans {
                var context = WireSpanEditContext(span, scope: scope, resource: resource, attributes: attributes)
                try group.execute(&context, report: report)
                attributes = context.attributes
            }
            return attributes.isChanged ? .replace(try attributes.messageEncoding()) : .keep
        }
    }
}
