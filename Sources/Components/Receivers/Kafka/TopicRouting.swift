import OTLP

/// Which pipeline a record of a topic goes to. A topic may be listed by several signals (the
/// Kafka guide's one-topic layout); such a topic is consumed once and each record is routed by its
/// `otelcol.signal` header, or, without one, by its content: OTLP/JSON by its top-level key,
/// protobuf by which signal's wire schema it fits (spans, metric points and log records differ in
/// the wire types of most of their fields). Nothing is decoded, except in the rare record that
/// fits the span schema and another: a gauge metric's fields line up with a span's identifiers
/// and name, so there the spans must carry real identifiers (16 and 8 bytes) to count as spans.
struct TopicRouting: Sendable {
    struct Source: Sendable, Equatable {
        let signal: Signal
        let encoding: KafkaReceiverSettings.Encoding
    }

    enum Decision: Equatable {
        case deliver(Signal, KafkaReceiverSettings.Encoding)
        /// A protobuf record whose wire schema decided its signal: the scan validated it and
        /// counted its items, so it need not be scanned again.
        case deliverValidated(Signal, items: Int)
        /// A sound record of a signal this receiver has no pipeline for: not ours to deliver.
        case notOurs(Signal)
        /// A record that fits several signals (it carries no items).
        case ambiguous
        /// Not a record of any signal in the topic's encoding.
        case poison(String)
    }

    static let signalHeader = "otelcol.signal"

    /// The signals configured for each topic.
    let sources: [String: [Source]]

    var topics: [String] { sources.keys.sorted() }

    func decide(topic: String, value: [UInt8], headers: [(name: String, value: [UInt8])]) -> Decision {
        guard let configured = sources[topic], let first = configured.first else { return .poison("no pipeline reads topic \(topic)") }
        if let header = headers.last(where: { $0.name == Self.signalHeader }),
           let signal = Signal(rawValue: String(decoding: header.value, as: UTF8.self)) {
            guard let source = configured.first(where: { $0.signal == signal }) else { return .notOurs(signal) }
            return .deliver(signal, source.encoding)
        }
        if configured.count == 1 {
            // One signal per topic (the Go layout): decode as configured; only a record that fails
            // is looked at further.
            return .deliver(first.signal, first.encoding)
        }
        guard configured.allSatisfy({ $0.encoding == first.encoding }) else {
            return .poison("topic \(topic) is read with several encodings; its records need the \(Self.signalHeader) header")
        }
        return classify(value, encoding: first.encoding, configured: configured)
    }

    /// What a record that failed to decode as its topic's one signal is: another signal's record
    /// (not ours) or poison.
    func reclassify(topic: String, value: [UInt8], failure: String) -> Decision {
        guard let source = sources[topic]?.first else { return .poison(failure) }
        switch classify(value, encoding: source.encoding, configured: sources[topic] ?? []) {
        case .notOurs(let signal): return .notOurs(signal)
        default: return .poison(failure)
        }
    }

    private func classify(_ value: [UInt8], encoding: KafkaReceiverSettings.Encoding, configured: [Source]) -> Decision {
        let signal: Signal
        var items: Int?
        switch encoding {
        case .otlpJSON:
            guard let found = Self.jsonSignal(value) else { return .poison("an OTLP/JSON record without resourceSpans, resourceMetrics or resourceLogs") }
            signal = found
        case .otlpProto:
            switch Self.wireSignal(value) {
            case .one(let found, let count): (signal, items) = (found, count)
            case .ambiguous: return .ambiguous
            case .none: return .poison("a record that is not an OTLP export request of any signal")
            }
        }
        guard let source = configured.first(where: { $0.signal == signal }) else { return .notOurs(signal) }
        if let items { return .deliverValidated(signal, items: items) }
        return .deliver(signal, source.encoding)
    }

    enum WireSignal: Equatable {
        case one(Signal, items: Int)
        /// It fits several signals' schemas (carrying no items, or spans without identifiers).
        case ambiguous
        case none
    }

    /// Which signal's wire schema an encoded export request fits, and its item count.
    static func wireSignal(_ value: [UInt8]) -> WireSignal {
        var fits: [(Signal, Int)] = []
        for candidate in Signal.allCases {
            if let items = try? WireScan.itemCount(candidate, in: value) { fits.append((candidate, items)) }
        }
        var withItems = fits.filter { $0.1 > 0 }
        if withItems.count > 1, !spansHaveIdentifiers(value) {
            fits.removeAll { $0.0 == .traces }
            withItems.removeAll { $0.0 == .traces }
        }
        if withItems.count == 1 { return .one(withItems[0].0, items: withItems[0].1) }
        if withItems.count > 1 || fits.count > 1 { return .ambiguous }
        if let only = fits.first { return .one(only.0, items: only.1) }
        return .none
    }

    /// Whether every span of a record that fits the span schema has a 16-byte trace and an 8-byte
    /// span identifier, as OTLP requires.
    static func spansHaveIdentifiers(_ value: [UInt8]) -> Bool {
        guard let request = try? ExportTraceServiceRequest(serializedBytes: value) else { return false }
        return request.resourceSpans.allSatisfy { resource in
            resource.scopeSpans.allSatisfy { scope in scope.spans.allSatisfy { $0.traceID.count == 16 && $0.spanID.count == 8 } }
        }
    }

    /// The signal of an OTLP/JSON request: the first key in the text that only one signal has —
    /// the request's own (`resourceSpans`), or, in the bare list of resource entries some producers
    /// (rotel) write, the scope level's (`scopeSpans`); in protojson's camelCase or the proto names.
    static func jsonSignal(_ json: [UInt8]) -> Signal? {
        var best: (Signal, Int)?
        for (signal, key) in jsonKeys {
            if let at = firstIndex(of: key, in: json), best.map({ at < $0.1 }) ?? true { best = (signal, at) }
        }
        return best?.0
    }

    private static let jsonKeys: [(Signal, [UInt8])] = [
        (.traces, ["resourceSpans", "resource_spans", "scopeSpans", "scope_spans"]),
        (.metrics, ["resourceMetrics", "resource_metrics", "scopeMetrics", "scope_metrics"]),
        (.logs, ["resourceLogs", "resource_logs", "scopeLogs", "scope_logs"]),
    ].flatMap { signal, keys in keys.map { (signal, Array("\"\($0)\"".utf8)) } }

    /// The first occurrence of `needle` not preceded by a backslash (a quote inside a string).
    private static func firstIndex(of needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count, let head = needle.first else { return nil }
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == head, index == 0 || haystack[index - 1] != UInt8(ascii: "\\"),
               haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
