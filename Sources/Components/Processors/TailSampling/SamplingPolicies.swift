import Foundation
import OTLP
import OTTL
import Pipeline
import Synchronization

/// What one policy says about a trace.
enum SamplingDecision: Sendable, Equatable {
    case sampled, notSampled, invertSampled, invertNotSampled, dropped, error
}

/// A trace as the policies see it: every span with its resource and scope, indexed where they
/// lie in the held requests.
struct TraceView {
    let traceID: TraceID
    let spans: [HeldSpanFields]
    /// The spans' scopes and resources, each once.
    let envelopes: [HeldEnvelope]
    /// The opened requests the fields point into, kept alive with them.
    private let opened: [OpenedRequest]

    init(traceID: TraceID, spans: [HeldSpan], _ open: inout RequestOpener) throws(OTLPDecodingError) {
        self.traceID = traceID
        var fields: [HeldSpanFields] = []
        var opened: [OpenedRequest] = []
        var envelopes: [HeldEnvelope] = []
        // Which opened request and scope entry each envelope is; a trace's spans come mostly from
        // one scope of one request, so the last is checked first.
        var places: [(request: Int, scope: UInt32)] = []
        fields.reserveCapacity(spans.count)
        for span in spans {
            if opened.last?.request !== span.request { opened.append(try open(span.request)) }
            guard let request = opened.last else { continue }
            let place = (request: opened.count - 1, scope: span.scope)
            let envelope: Int
            if let known = places.lastIndex(where: { $0 == place }) {
                envelope = known
            } else {
                envelopes.append(try request.envelope(Int(span.scope)))
                places.append(place)
                envelope = envelopes.count - 1
            }
            fields.append(HeldSpanFields(span: try request.fields(span), envelope: envelope))
        }
        self.spans = fields
        self.envelopes = envelopes
        self.opened = opened
    }

    func scope(_ entry: HeldSpanFields) -> WireFields { envelopes[entry.envelope].scope }

    func resource(_ entry: HeldSpanFields) -> WireFields { envelopes[entry.envelope].resource }
}

/// An attribute's value as the attribute policies compare it.
enum ScalarValue {
    case string(UnsafeRawBufferPointer)
    case int(Int64)
    case bool(Bool)
    case other

    /// The value of the first attribute `key` (UTF-8) of the message's repeated KeyValue `field`.
    init?(_ message: WireFields, _ field: Int, _ key: [UInt8]) {
        guard let body = key.withUnsafeBytes({ message.attribute(field, utf8: $0) }) else { return nil }
        let buffer = message.buffer
        // The usual value, a string alone, read directly.
        if let text = WireFields.stringAlone(buffer, body) {
            self = .string(UnsafeRawBufferPointer(rebasing: buffer[text]))
            return
        }
        guard let value = try? WireFields(buffer, body) else { self = .other; return }
        switch value.lastPresent(1...7) {
        case 1: self = .string(value.bytes(1))
        case 2: self = .bool(value.uint(2) != 0)
        case 3: self = .int(Int64(bitPattern: value.uint(3)))
        default: self = .other
        }
    }
}

/// A configured policy, ready to judge traces. Rate-based policies keep per-second counters.
final class SamplingPolicy: Sendable {
    let name: String
    private let evaluate: @Sendable (TraceView) -> SamplingDecision
    let isDrop: Bool

    init(name: String, isDrop: Bool = false, _ evaluate: @escaping @Sendable (TraceView) -> SamplingDecision) {
        self.name = name
        self.isDrop = isDrop
        self.evaluate = evaluate
    }

    func decide(_ trace: TraceView) -> SamplingDecision { evaluate(trace) }
}

enum SamplingPolicies {
    static func build(_ configs: [PolicyConfig], path: String) throws(ConfigError) -> [SamplingPolicy] {
        var names: Set<String> = []
        var policies: [SamplingPolicy] = []
        for (index, config) in configs.enumerated() {
            let at = "\(path)[\(index)]"
            guard !config.name.isEmpty else { throw ConfigError(path: "\(at).name", message: "is required") }
            guard names.insert(config.name).inserted else { throw ConfigError(path: "\(at).name", message: "\"\(config.name)\" is used twice") }
            policies.append(try build(config, path: at))
        }
        return policies
    }

    static func build(_ config: PolicyConfig, path: String) throws(ConfigError) -> SamplingPolicy {
        let name = config.name
        guard let type = config.type else { throw ConfigError(path: "\(path).type", message: "is required") }
        switch type {
        case .alwaysSample:
            return SamplingPolicy(name: name) { _ in .sampled }
        case .latency:
            let c = config.latency
            guard c.threshold_ms > 0 || c.upper_threshold_ms > 0 else {
                throw ConfigError(path: "\(path).latency.threshold_ms", message: "must be greater than 0")
            }
            return SamplingPolicy(name: name) { trace in
                var start = UInt64.max, end: UInt64 = 0
                for entry in trace.spans {
                    start = min(start, entry.span.uint(7))
                    end = max(end, entry.span.uint(8))
                }
                let milliseconds = end > start ? Int64((end - start) / 1_000_000) : 0
                if c.upper_threshold_ms == 0 { return milliseconds >= c.threshold_ms ? .sampled : .notSampled }
                return milliseconds > c.threshold_ms && milliseconds <= c.upper_threshold_ms ? .sampled : .notSampled
            }
        case .numericAttribute:
            let c = config.numeric_attribute
            guard !c.key.isEmpty else { throw ConfigError(path: "\(path).numeric_attribute.key", message: "is required") }
            guard c.min_value != 0 || c.max_value != 0 else {
                throw ConfigError(path: "\(path).numeric_attribute", message: "min_value or max_value must be set")
            }
            let low = c.min_value == 0 ? Int64.min : c.min_value, high = c.max_value == 0 ? Int64.max : c.max_value
            return attributePolicy(name, key: c.key, invert: c.invert_match) { value in
                if case .int(let i) = value { return i >= low && i <= high }
                return false
            }
        case .probabilistic:
            let c = config.probabilistic
            guard c.sampling_percentage >= 0 else {
                throw ConfigError(path: "\(path).probabilistic.sampling_percentage", message: "must be 0 or more")
            }
            let threshold = ProbabilisticHash.threshold(percentage: c.sampling_percentage)
            let salt = Array(c.hash_salt.utf8)
            return SamplingPolicy(name: name) { trace in
                ProbabilisticHash.hash(salt: salt, traceID: trace.traceID) <= threshold ? .sampled : .notSampled
            }
        case .statusCode:
            let codes = config.status_code.status_codes
            guard !codes.isEmpty else { throw ConfigError(path: "\(path).status_code.status_codes", message: "at least one status code is required") }
            // Bit n for status code n: tested for every span of every trace.
            var wanted: UInt64 = 0
            for (index, code) in codes.enumerated() {
                switch code {
                case "UNSET": wanted |= 1 << 0
                case "OK": wanted |= 1 << 1
                case "ERROR": wanted |= 1 << 2
                default: throw ConfigError(path: "\(path).status_code.status_codes[\(index)]", message: "must be OK, ERROR or UNSET, got \"\(code)\"")
                }
            }
            let codeBits = wanted
            return SamplingPolicy(name: name) { trace in
                trace.spans.contains { entry in
                    let code = (try? entry.span.message(15))?.uint(3) ?? 0
                    return code < 64 && codeBits & (1 << code) != 0
                } ? .sampled : .notSampled
            }
        case .stringAttribute:
            let c = config.string_attribute
            guard !c.key.isEmpty else { throw ConfigError(path: "\(path).string_attribute.key", message: "is required") }
            let values = c.values.filter { !$0.isEmpty }
            let matcher: @Sendable (UnsafeRawBufferPointer) -> Bool
            if c.enabled_regex_matching {
                var patterns: [GoRegex] = []
                for (index, value) in values.enumerated() {
                    do { patterns.append(try GoRegex.compile(value)) } catch {
                        throw ConfigError(path: "\(path).string_attribute.values[\(index)]", message: error.description)
                    }
                }
                let compiled = patterns
                matcher = { text in compiled.contains { $0.matches(received: text) } }
            } else if values.count <= 16 {
                // Compared as bytes where they lie: a few values are found faster so than hashed.
                let wanted = values.map { Array($0.utf8) }
                matcher = { text in wanted.contains { $0.withUnsafeBytes { text.sameBytes(as: $0) } } }
            } else {
                let set = Set(values)
                matcher = { set.contains(String(decoding: $0, as: UTF8.self)) }
            }
            return attributePolicy(name, key: c.key, invert: c.invert_match) { value in
                if case .string(let text) = value, !text.isEmpty { return matcher(text) }
                return false
            }
        case .booleanAttribute:
            let c = config.boolean_attribute
            guard !c.key.isEmpty else { throw ConfigError(path: "\(path).boolean_attribute.key", message: "is required") }
            return attributePolicy(name, key: c.key, invert: c.invert_match) { value in
                if case .bool(let b) = value { return b == c.value }
                return false
            }
        case .rateLimiting:
            let limit = config.rate_limiting.spans_per_second
            guard limit > 0 else { throw ConfigError(path: "\(path).rate_limiting.spans_per_second", message: "must be greater than 0") }
            let budget = SecondBudget()
            return SamplingPolicy(name: name) { trace in
                budget.take(Int64(trace.spans.count), limit: limit) ? .sampled : .notSampled
            }
        case .spanCount:
            let c = config.span_count
            guard c.min_spans > 0 else { throw ConfigError(path: "\(path).span_count.min_spans", message: "must be greater than 0") }
            return SamplingPolicy(name: name) { trace in
                trace.spans.count >= c.min_spans && (c.max_spans == 0 || trace.spans.count <= c.max_spans) ? .sampled : .notSampled
            }
        case .traceState:
            let c = config.trace_state
            guard !c.key.isEmpty, !c.values.isEmpty else { throw ConfigError(path: "\(path).trace_state", message: "key and values are required") }
            let values = Set(c.values.filter { c.key.count + $0.count < 256 })
            return SamplingPolicy(name: name) { trace in
                for entry in trace.spans {
                    for member in entry.span.string(3).split(separator: ",") {
                        let parts = member.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                        if parts.count == 2, parts[0] == c.key, values.contains(parts[1]) { return .sampled }
                    }
                }
                return .notSampled
            }
        case .ottlCondition:
            let c = config.ottl_condition
            guard !c.span.isEmpty || !c.spanevent.isEmpty else {
                throw ConfigError(path: "\(path).ottl_condition", message: "at least one span or spanevent condition is required")
            }
            // Checked against the decoded contexts' paths, run on the encoded spans.
            let spans = OTTLGroup<WireSpanContext>(OTTLGroup<SpanContext>(
                try .configured(conditions: c.span, conditionsPath: "\(path).ottl_condition.span"), errorMode: c.error_mode.mode))
            let events = OTTLGroup<WireSpanEventContext>(OTTLGroup<SpanEventContext>(
                try .configured(conditions: c.spanevent, conditionsPath: "\(path).ottl_condition.spanevent"), errorMode: c.error_mode.mode))
            return SamplingPolicy(name: name) { trace in
                do {
                    for entry in trace.spans {
                        var context = WireSpanContext(entry.span, scope: trace.scope(entry), resource: trace.resource(entry))
                        if try spans.anyCondition(&context, report: { _ in }) { return .sampled }
                        guard !events.program.conditions.isEmpty else { continue }
                        var matched = false
                        try entry.span.forEach(11) { (body: Range<Int>) throws -> Bool in
                            var eventContext = WireSpanEventContext(event: try WireFields(entry.span.buffer, body), span: entry.span,
                                                                    scope: trace.scope(entry), resource: trace.resource(entry))
                            matched = try events.anyCondition(&eventContext, report: { _ in })
                            return !matched
                        }
                        if matched { return .sampled }
                    }
                    return .notSampled
                } catch {
                    return .error
                }
            }
        case .and, .drop:
            let isDrop = type == .drop
            let subs = isDrop ? config.drop.drop_sub_policy : config.and.and_sub_policy
            guard !subs.isEmpty else { throw ConfigError(path: "\(path).\(type.rawValue)", message: "needs at least one sub-policy") }
            let policies = try build(subs, path: "\(path).\(type.rawValue).\(type.rawValue)_sub_policy")
            return SamplingPolicy(name: name, isDrop: isDrop) { trace in
                for policy in policies {
                    switch policy.decide(trace) {
                    case .notSampled, .invertNotSampled, .dropped: return .notSampled
                    case .error: return .error
                    case .sampled, .invertSampled: continue
                    }
                }
                return isDrop ? .dropped : .sampled
            }
        case .composite:
            return try composite(config, path: path)
        }
    }

    /// A policy over resource and span attributes `key`: sampled when any value matches; with
    /// `invert`, a match means "not sampled" and its absence "sampled", in the weaker invert forms.
    private static func attributePolicy(_ name: String, key: String, invert: Bool,
                                        _ matches: @escaping @Sendable (ScalarValue) -> Bool) -> SamplingPolicy {
        let key = Array(key.utf8)
        return SamplingPolicy(name: name) { trace in
            // Each envelope's resource once (a trace's spans share a few; two scopes of one resource
            // have it looked at twice), then the spans.
            let found = trace.envelopes.contains { ScalarValue($0.resource, 1, key).map(matches) == true }
                || trace.spans.contains { ScalarValue($0.span, 9, key).map(matches) == true }
            if invert { return found ? .invertNotSampled : .invertSampled }
            return found ? .sampled : .notSampled
        }
    }

    private static func composite(_ config: PolicyConfig, path: String) throws(ConfigError) -> SamplingPolicy {
        let c = config.composite
        guard c.max_total_spans_per_second > 0 else {
            throw ConfigError(path: "\(path).composite.max_total_spans_per_second", message: "must be greater than 0")
        }
        let policies = try build(c.composite_sub_policy, path: "\(path).composite.composite_sub_policy")
        guard !policies.isEmpty else { throw ConfigError(path: "\(path).composite.composite_sub_policy", message: "needs at least one sub-policy") }
        let total = c.max_total_spans_per_second
        let budgets = policies.map { policy -> (SamplingPolicy, Int64, SecondBudget) in
            let percent = c.rate_allocation.first { $0.policy == policy.name }?.percent ?? 0
            // A sub-policy without an allocation gets an equal share.
            let share = percent > 0 ? percent * total / 100 : total / Int64(policies.count)
            return (policy, share, SecondBudget())
        }
        let overall = SecondBudget()
        return SamplingPolicy(name: config.name) { trace in
            let spans = Int64(trace.spans.count)
            for (policy, share, budget) in budgets {
                switch policy.decide(trace) {
                case .sampled, .invertSampled:
                    guard overall.available(spans, limit: total), budget.take(spans, limit: share + 1) else { return .notSampled }
                    _ = overall.take(spans, limit: total + 1)
                    return .sampled
                default:
                    continue
                }
            }
            return .notSampled
        }
    }

    /// The Go processor's precedence: drop, then an inverted "not sampled", then any "sampled",
    /// then inverted "sampled" without a plain "not sampled"; otherwise not sampled.
    /// `record` is told each policy's index in `policies` and its decision. Drop policies go
    /// first; what the others decided is kept as flags, so a trace's decision allocates nothing.
    static func combine(_ policies: [SamplingPolicy], _ trace: TraceView, sampleOnFirstMatch: Bool,
                        record: (Int, SamplingDecision) -> Void) -> Bool {
        var seen: (sampled: Bool, notSampled: Bool, invertSampled: Bool, invertNotSampled: Bool) = (false, false, false, false)
        for pass in 0..<2 {
            let dropsFirst = pass == 0
            for index in policies.indices where policies[index].isDrop == dropsFirst {
                let decision = policies[index].decide(trace)
                record(index, decision)
                switch decision {
                case .dropped: return false
                case .sampled:
                    if sampleOnFirstMatch { return true }
                    seen.sampled = true
                case .notSampled: seen.notSampled = true
                case .invertSampled: seen.invertSampled = true
                case .invertNotSampled: seen.invertNotSampled = true
                case .error: break
                }
            }
        }
        if seen.invertNotSampled { return false }
        if seen.sampled { return true }
        return seen.invertSampled && !seen.notSampled
    }
}

/// Spans allowed per wall-clock second.
final class SecondBudget: Sendable {
    private let state = Mutex<(second: Int64, used: Int64)>((0, 0))

    /// Takes `count` when `used + count < limit` in the current second.
    func take(_ count: Int64, limit: Int64) -> Bool {
        state.withLock { state in
            let now = Int64(Date().timeIntervalSince1970)
            if state.second != now { state = (now, 0) }
            guard state.used + count < limit else { return false }
            state.used += count
            return true
        }
    }

    func available(_ count: Int64, limit: Int64) -> Bool {
        state.withLock { state in
            let now = Int64(Date().timeIntervalSince1970)
            return (state.second == now ? state.used : 0) + count <= limit
        }
    }
}

/// The probabilistic policy's hash: FNV-1a 64 over the salt, then the 16 trace id bytes, compared
/// with `floor((2^64 - 1) × percentage / 100)` — as the Go processor computes it, so both tiers
/// sample the same traces.
enum ProbabilisticHash {
    static func hash(salt: [UInt8], traceID: TraceID) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in salt { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        for byte in traceID.bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash
    }

    static func threshold(percentage: Double) -> UInt64 {
        if percentage >= 100 { return .max }
        let ratio = percentage / 100
        guard ratio > 0 else { return 0 }
        // ratio = significand × 2^exponent exactly; the product with 2^64-1 is taken in 128 bits.
        let significand = UInt64(ratio.significandBitPattern) | (1 << 52)
        let shift = 52 - Int(ratio.exponent)
        let (high, low) = UInt64.max.multipliedFullWidth(by: significand)
        guard shift > 0 else { return .max }
        if shift >= 128 { return 0 }
        if shift >= 64 { return high >> UInt64(shift - 64) }
        return (high << UInt64(64 - shift)) | (low >> UInt64(shift))
    }
}
