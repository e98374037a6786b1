import OTLP

extension OtelDocumentEncoder {
    /// One document per span (`traces-*`) and one per span event (`logs-*`).
    mutating func encode(_ request: ExportTraceServiceRequest) {
        for resourceSpans in request.resourceSpans {
            let resource = resourceJSON(resourceSpans.resource, schemaURL: resourceSpans.schemaURL)
            for scopeSpans in resourceSpans.scopeSpans {
                let scope = scopeJSON(scopeSpans.scope, schemaURL: scopeSpans.schemaURL)
                let defaults = router.scopeDefaults(scope: scopeSpans.scope, resource: resourceSpans.resource.attributes)
                for span in scopeSpans.spans {
                    encode(span, resource: resource, scope: scope, defaults: defaults)
                    for event in span.events {
                        encode(event, of: span, resource: resource, scope: scope, defaults: defaults)
                    }
                }
            }
        }
    }

    mutating func encode(_ span: Span, resource: [UInt8], scope: [UInt8], defaults: DataStreamRouter.ScopeDefaults) {
        let route = router.route(.traces, record: span.attributes, defaults: defaults)
        writer.reset()
        writer.beginObject()
        timestamp("@timestamp", span.startTimeUnixNano)
        dataStream(route)
        identifier("trace_id", span.traceID)
        identifier("span_id", span.spanID)
        text("trace_state", span.traceState)
        identifier("parent_span_id", span.parentSpanID)
        text("name", span.name)
        writer.key("kind")
        writer.string(span.kind.displayName)
        writer.key("duration")
        writer.uint(span.endTimeUnixNano >= span.startTimeUnixNano ? span.endTimeUnixNano - span.startTimeUnixNano : 0)
        Self.attributes("attributes", span.attributes, into: &writer)
        count("dropped_attributes_count", span.droppedAttributesCount)
        count("dropped_events_count", span.droppedEventsCount)
        writer.key("links")
        writer.beginArray()
        for link in span.links {
            writer.beginObject()
            identifier("trace_id", link.traceID)
            identifier("span_id", link.spanID)
            text("trace_state", link.traceState)
            Self.attributes("attributes", link.attributes, into: &writer)
            count("dropped_attributes_count", link.droppedAttributesCount)
            writer.endObject()
        }
        writer.endArray()
        count("dropped_links_count", span.droppedLinksCount)
        writer.key("status")
        writer.beginObject()
        text("message", span.status.message)
        writer.key("code")
        writer.string(span.status.code.displayName)
        writer.endObject()
        resourceAndScope(resource, scope)
        writer.endObject()
        let id = options.dynamicSpanIDs ? RoutingAttribute.string(RoutingAttribute.documentID, in: span.attributes) : nil
        body.create(document: writer, route: route, id: id, contentID: options.contentIDs)
    }

    mutating func encode(_ event: Span.Event, of span: Span, resource: [UInt8], scope: [UInt8],
                                 defaults: DataStreamRouter.ScopeDefaults) {
        let route = router.route(.logs, record: event.attributes, defaults: defaults)
        writer.reset()
        writer.beginObject()
        timestamp("@timestamp", event.timeUnixNano)
        dataStream(route)
        identifier("trace_id", span.traceID)
        identifier("span_id", span.spanID)
        count("dropped_attributes_count", event.droppedAttributesCount)
        text("event_name", event.name)
        Self.attributes("attributes", event.attributes, into: &writer, extra: event.name.isEmpty ? nil : ("event.name", event.name))
        resourceAndScope(resource, scope)
        writer.endObject()
        let id = options.dynamicSpanIDs ? RoutingAttribute.string(RoutingAttribute.documentID, in: event.attributes) : nil
        body.create(document: writer, route: route, id: id, contentID: options.contentIDs)
    }
}
