import Foundation
import OTLP

/// The span rules on a decoded span.
extension SpanEnrichment {
    func enrich(_ item: inout Span) {
        let facts = SpanFacts(item.attributes)
        let header = Header(start: item.startTimeUnixNano, end: item.endTimeUnixNano, kind: item.kind, flags: item.flags,
                            status: item.status.code, parentIsEmpty: Self.isEmptyID(item.parentSpanID), traceState: item.traceState)
        let role = role(header, facts)
        var childIDs: [String] = []
        if !item.links.isEmpty, movesChildLinks(role, facts) {
            item.links.removeAll { link in
                let marker = link.attributes.first { $0.key == "is_child" || $0.key == "elastic.is_child" }?.value
                guard Self.isChildLink(marker: marker, spanIDIsEmpty: Self.isEmptyID(link.spanID)) else { return false }
                childIDs.append(Self.hexID(link.spanID))
                return true
            }
        }
        // Taken out while they grow, so that the array is not copied (see `editInPlace`).
        var sink = ModelAttributeSink(attributes: item.attributes)
        item.attributes = []
        item.spanID.withUnsafeBytes { spanID in
            write(&sink, header, facts, role, childIDs: childIDs, name: { item.name }, spanID: spanID)
        }
        item.attributes = sink.attributes
        if role.isTransaction, transaction.id.enabled, transaction.clear_span_id.enabled { item.spanID = Data() }
        if role.isTransaction, transaction.name.enabled, transaction.clear_span_name.enabled { item.name = "" }
        let transactionType = role.isTransaction ? facts.transactionTypeDerived : nil
        editInPlace(&item, \.events) { events in
            for index in events.indices { enrichEvent(&events[index], transactionType: transactionType) }
        }
    }

    private func enrichEvent(_ item: inout Span.Event, transactionType: String?) {
        var facts = EventFacts(isException: item.name == "exception")
        for entry in item.attributes {
            var key = entry.key
            key.withUTF8 { facts.absorb(UnsafeRawBufferPointer($0), entry.value) }
        }
        var sink = ModelAttributeSink(attributes: item.attributes)
        item.attributes = []
        writeEvent(&sink, time: item.timeUnixNano, facts, transactionType: transactionType)
        item.attributes = sink.attributes
    }
}
