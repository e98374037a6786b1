import OTLP

extension OtelDocumentEncoder {
    /// One document per log record (`logs-*`); in `bodymap` mode the record's map body is the
    /// whole document.
    mutating func encode(_ request: ExportLogsServiceRequest) {
        for resourceLogs in request.resourceLogs {
            let resource = resourceJSON(resourceLogs.resource, schemaURL: resourceLogs.schemaURL)
            for scopeLogs in resourceLogs.scopeLogs {
                let scope = scopeJSON(scopeLogs.scope, schemaURL: scopeLogs.schemaURL)
                let defaults = router.scopeDefaults(scope: scopeLogs.scope, resource: resourceLogs.resource.attributes)
                for record in scopeLogs.logRecords {
                    let route = router.route(.logs, record: record.attributes, defaults: defaults)
                    writer.reset()
                    if options.bodymap {
                        guard case .kvlistValue(let map)? = record.body.value else {
                            drop(reason: "body_not_a_map", "bodymap mode needs a map body; a log record's body is not one")
                            continue
                        }
                        Self.map(map.values, into: &writer)
                    } else {
                        write(record, route: route, resource: resource, scope: scope)
                    }
                    let id = options.dynamicLogIDs ? RoutingAttribute.string(RoutingAttribute.documentID, in: record.attributes) : nil
                    let pipeline = options.dynamicLogPipelines ? RoutingAttribute.string(RoutingAttribute.pipeline, in: record.attributes) : nil
                    body.create(document: writer, route: route, id: id, contentID: options.contentIDs, pipeline: pipeline)
                }
            }
        }
    }

    private mutating func write(_ record: LogRecord, route: Route, resource: [UInt8], scope: [UInt8]) {
        writer.beginObject()
        // A record without a time is placed at its observed time, not at 1970.
        timestamp("@timestamp", record.timeUnixNano != 0 ? record.timeUnixNano : record.observedTimeUnixNano)
        if record.observedTimeUnixNano != 0 { timestamp("observed_timestamp", record.observedTimeUnixNano) }
        dataStream(route)
        text("severity_text", record.severityText)
        if record.severityNumber.rawValue != 0 { writer.key("severity_number"); writer.int(Int64(record.severityNumber.rawValue)) }
        identifier("trace_id", record.traceID)
        identifier("span_id", record.spanID)
        Self.attributes("attributes", record.attributes, into: &writer)
        count("dropped_attributes_count", record.droppedAttributesCount)
        text("event_name", record.eventName.isEmpty ? (RoutingAttribute.string("event.name", in: record.attributes) ?? "") : record.eventName)
        resourceAndScope(resource, scope)
        writeBody(record.body)
        writer.endObject()
    }

    /// Maps and lists of maps are `body.structured`; Elasticsearch cannot hold a mixed list in a
    /// flattened field, so such a list is wrapped as `{"value": [...]}`; scalars are `body.text`.
    private mutating func writeBody(_ body: AnyValue) {
        guard let value = body.value else { return }
        writer.key("body")
        writer.beginObject()
        switch value {
        case .kvlistValue:
            writer.key("structured")
            Self.value(body, into: &writer)
        case .arrayValue(let list):
            writer.key("structured")
            if list.values.allSatisfy({ if case .kvlistValue? = $0.value { true } else { false } }) {
                Self.value(body, into: &writer)
            } else {
                writer.beginObject()
                writer.key("value")
                Self.value(body, into: &writer)
                writer.endObject()
            }
        default:
            writer.key("text")
            Self.value(body, into: &writer)
        }
        writer.endObject()
    }
}
