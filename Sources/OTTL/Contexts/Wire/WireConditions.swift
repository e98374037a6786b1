import OTLP

/// A condition compiled for encoded items (`WireItemContext`): each path it can resolve becomes
/// the field number (and attribute key bytes) it reads, fixed when the program is built, and
/// comparisons of a string with a string literal and `IsMatch` on a string run on the received
/// bytes without making a `String`. What it cannot resolve stays a syntax tree and runs through
/// `OTTLEvaluator`, so every condition gives the result it gives on the model.
indirect enum WireCondition: Sendable {
    case constant(Bool)
    case not(WireCondition)
    case and([WireCondition])
    case or([WireCondition])
    /// A string read compared with the UTF-8 of a literal; `equal` false for `!=`.
    case stringEquals(WireRead, [UInt8], equal: Bool)
    /// An attribute compared with `nil`; `equal` false for `!= nil`.
    case isNil(WireRead, equal: Bool)
    /// Two operands compared: reads, literals, arithmetic.
    case compare(WireOperand, OTTLComparison.Operator, WireOperand)
    /// Two integer operands compared without making an `OTTLValue` (`end_time_unix_nano -
    /// start_time_unix_nano > 500000000`).
    case compareIntegers(WireInteger, OTTLComparison.Operator, WireInteger)
    /// `IsMatch` on a read, with the call's compiled pattern; `original` decides for a value
    /// that is no string (IsMatch matches its text).
    case matches(WireRead, GoRegex, original: OTTLCondition)
    case general(OTTLCondition)

    init(_ condition: OTTLCondition, resolve: (OTTLPath) -> WireRead?) {
        switch condition {
        case .constant(let b): self = .constant(b)
        case .not(let inner): self = .not(WireCondition(inner, resolve: resolve))
        case .and(let parts): self = .and(parts.map { WireCondition($0, resolve: resolve) })
        case .or(let parts): self = .or(parts.map { WireCondition($0, resolve: resolve) })
        case .comparison(let left, let opText, let right):
            guard let op = OTTLComparison.Operator(rawValue: opText), let l = WireOperand(left, resolve: resolve),
                  let r = WireOperand(right, resolve: resolve) else {
                self = .general(condition)
                return
            }
            // == and != against a literal (either side) have forms that read no value.
            switch (l, r, op) {
            case (.read(let read), .literal(let literal), .equal), (.read(let read), .literal(let literal), .notEqual),
                 (.literal(let literal), .read(let read), .equal), (.literal(let literal), .read(let read), .notEqual):
                switch literal {
                // A literal holding U+FFFD could equal the replacement of invalid UTF-8 on the model.
                case .string(let text) where !text.unicodeScalars.contains("\u{FFFD}"):
                    self = .stringEquals(read, Array(text.utf8), equal: op == .equal)
                    return
                case .none where read.isAttribute:
                    self = .isNil(read, equal: op == .equal)
                    return
                default: break
                }
            default: break
            }
            if let l = WireInteger(l), let r = WireInteger(r) {
                self = .compareIntegers(l, op, r)
                return
            }
            self = .compare(l, op, r)
        case .value(.converter(let call)):
            guard call.converter == .isMatch, call.keys.isEmpty, let regex = call.regex, regex.index == 1,
                  call.slots.count == 2, case .path(let path)? = call.slots[0], let read = resolve(path) else {
                self = .general(condition)
                return
            }
            self = .matches(read, regex.compiled, original: condition)
        case .value:
            self = .general(condition)
        }
    }

    /// Whether evaluating it may hand a part to `general` (a part not compiled, or `IsMatch` on an
    /// attribute, which may hold no string).
    var mayEvaluateGeneral: Bool {
        switch self {
        case .constant, .stringEquals, .isNil, .compare, .compareIntegers: false
        case .not(let inner): inner.mayEvaluateGeneral
        case .and(let parts), .or(let parts): parts.contains { $0.mayEvaluateGeneral }
        case .matches(let read, _, _): read.isAttribute
        case .general: true
        }
    }

    /// The `general` of a condition that never calls it.
    static func noGeneral(_ condition: OTTLCondition) throws(OTTLRuntimeError) -> Bool { false }

    /// Whether nothing of the condition was compiled.
    var isGeneral: Bool {
        if case .general = self { return true }
        return false
    }

    /// The condition on an item under its scope and resource; `general` evaluates what did not
    /// compile. Not generic over the context, so that nothing in it looks up type metadata.
    func test(_ levels: WireLevels, general: (OTTLCondition) throws(OTTLRuntimeError) -> Bool) throws(OTTLRuntimeError) -> Bool {
        switch self {
        case .constant(let b): return b
        case .not(let inner): return !(try inner.test(levels, general: general))
        case .and(let parts):
            for part in parts where !(try part.test(levels, general: general)) { return false }
            return true
        case .or(let parts):
            for part in parts where try part.test(levels, general: general) { return true }
            return false
        case .stringEquals(let read, let literal, let equal):
            let message = levels[read.level]
            let found = try read.found(message)
            return literal.withUnsafeBytes { found.equals($0, in: message.buffer, equal: equal) }
        case .isNil(let read, let equal):
            return try read.found(levels[read.level]).isNil(equal: equal)
        case .compare(let left, let op, let right):
            return OTTLComparison.compare(try left.value(levels), op, try right.value(levels))
        case .compareIntegers(let left, let op, let right):
            return op.holds(left.value(levels), right.value(levels))
        case .matches(let read, let regex, let original):
            let message = levels[read.level]
            let range: Range<Int>
            switch try read.found(message) {
            case .none: return false
            case .other: return try general(original)
            case .string(let found): range = found
            }
            return regex.matches(received: UnsafeRawBufferPointer(rebasing: message.buffer[range]))
        case .general(let condition):
            return try general(condition)
        }
    }
}

/// A value a compiled comparison computes: a read, a literal, or arithmetic on them.
indirect enum WireOperand: Sendable {
    case read(WireRead)
    case literal(OTTLValue)
    case math(WireOperand, Character, WireOperand)

    init?(_ expression: OTTLExpression, resolve: (OTTLPath) -> WireRead?) {
        switch expression {
        case .literal(let value): self = .literal(value)
        case .path(let path):
            guard let read = resolve(path) else { return nil }
            self = .read(read)
        case .math(let left, let op, let right):
            guard let l = WireOperand(left, resolve: resolve), let r = WireOperand(right, resolve: resolve) else { return nil }
            self = .math(l, op, r)
        default: return nil
        }
    }

    func value(_ levels: WireLevels) throws(OTTLRuntimeError) -> OTTLValue {
        switch self {
        case .read(let read): try read.value(levels[read.level])
        case .literal(let value): value
        case .math(let left, let op, let right): try OTTLMath.apply(try left.value(levels), op, try right.value(levels))
        }
    }
}

/// An operand whose value is an int whatever the item holds: an integer field, an int literal,
/// or one `+`, `-` or `*` of two such (wrapping, as `OTTLMath` does on ints). Division stays a
/// `WireOperand`: it fails on zero.
struct WireInteger: Sendable {
    enum Term: Sendable {
        case literal(Int64)
        case field(WireRead.Level, Int, WireValues.IntegerType)
    }

    let left: Term
    /// 0 for a single term, else the operator's ASCII code.
    let op: UInt8
    let right: Term

    init?(_ operand: WireOperand) {
        switch operand {
        case .math(let l, let op, let r):
            guard let left = Self.term(l), let right = Self.term(r), let code = op.asciiValue, "+-*".utf8.contains(code) else { return nil }
            (self.left, self.op, self.right) = (left, code, right)
        default:
            guard let term = Self.term(operand) else { return nil }
            (left, op, right) = (term, 0, term)
        }
    }

    private static func term(_ operand: WireOperand) -> Term? {
        switch operand {
        case .literal(.int(let value)): .literal(value)
        case .read(let read):
            switch read.kind {
            case .int32(let field): .field(read.level, field, .int32)
            case .uint32(let field): .field(read.level, field, .uint32)
            case .int64(let field): .field(read.level, field, .int64)
            case .string, .attribute: nil
            }
        default: nil
        }
    }

    func value(_ levels: WireLevels) -> Int64 { value(levels.item, levels.scope, levels.resource) }

    /// The value read from the item, its scope and its resource, each passed where it lies: a copy
    /// of its index costs more than the read.
    func value(_ item: WireFields, _ scope: WireFields, _ resource: WireFields) -> Int64 {
        let a = Self.value(left, item, scope, resource)
        switch op {
        case 0: return a
        case UInt8(ascii: "+"): return a &+ Self.value(right, item, scope, resource)
        case UInt8(ascii: "-"): return a &- Self.value(right, item, scope, resource)
        default: return a &* Self.value(right, item, scope, resource)
        }
    }

    private static func value(_ term: Term, _ item: WireFields, _ scope: WireFields, _ resource: WireFields) -> Int64 {
        switch term {
        case .literal(let value): value
        case .field(.item, let field, let type): WireValues.integer(item, field, type)
        case .field(.scope, let field, let type): WireValues.integer(scope, field, type)
        case .field(.resource, let field, let type): WireValues.integer(resource, field, type)
        }
    }
}

/// The messages a compiled condition reads from.
struct WireLevels {
    var item: WireFields
    var scope: WireFields
    var resource: WireFields

    subscript(level: WireRead.Level) -> WireFields {
        switch level {
        case .item: item
        case .scope: scope
        case .resource: resource
        }
    }
}

/// A path of an item context resolved to what it reads: a field of the item, its scope or its
/// resource.
struct WireRead: Sendable {
    enum Level: Sendable { case item, scope, resource }
    enum Kind: Sendable {
        case string(Int)
        case int32(Int)
        case uint32(Int)
        case int64(Int)
        /// The value of the first entry with this key (UTF-8) in a repeated KeyValue field.
        case attribute(Int, [UInt8])
    }

    let level: Level
    let kind: Kind

    var isAttribute: Bool {
        if case .attribute = kind { return true }
        return false
    }

    /// What a read finds, in one look-up: nil (an attribute absent, or a value with no member),
    /// a string (its range), or a value of another type.
    enum Found {
        case none
        case string(Range<Int>)
        case other

        /// `== literal` (`!=` when `equal` is false) of what was found in `buffer`: only a string
        /// can equal a string literal.
        @inline(__always)
        func equals(_ literal: UnsafeRawBufferPointer, in buffer: UnsafeRawBufferPointer, equal: Bool) -> Bool {
            guard case .string(let range) = self else { return !equal }
            return UnsafeRawBufferPointer(rebasing: buffer[range]).sameBytes(as: literal) == equal
        }

        /// `== nil` (`!= nil` when `equal` is false).
        @inline(__always)
        func isNil(equal: Bool) -> Bool {
            if case .none = self { return equal }
            return !equal
        }
    }

    func found(_ message: WireFields) throws(OTTLRuntimeError) -> Found {
        switch kind {
        case .string(let field): return .string(message.bytesRange(field))
        case .attribute(let field, let key):
            return try key.withUnsafeBufferPointer { key throws(OTTLRuntimeError) in try Self.found(message, field, UnsafeRawBufferPointer(key)) }
        default: return .other
        }
    }

    /// What the first entry with `key` (UTF-8) in the repeated KeyValue `field` holds.
    @inline(__always)
    static func found(_ message: WireFields, _ field: Int, _ key: UnsafeRawBufferPointer) throws(OTTLRuntimeError) -> Found {
        guard let body = message.attribute(field, utf8: key) else { return .none }
        // The usual shapes read directly: a value of a string alone, and none (a key alone).
        if body.isEmpty { return .none }
        if let text = WireFields.stringAlone(message.buffer, body) { return .string(text) }
        let value = try fields(message.buffer, body)
        switch value.lastPresent(1...7) {
        case nil: return .none
        case 1: return .string(value.bytesRange(1))
        default: return .other
        }
    }

    func value(_ message: WireFields) throws(OTTLRuntimeError) -> OTTLValue {
        switch kind {
        case .string(let field): return .string(message.string(field))
        case .int32(let field): return WireValues.int32(message, field)
        case .uint32(let field): return WireValues.uint32(message, field)
        case .int64(let field): return WireValues.int64(message, field)
        case .attribute(let field, let key):
            guard let body = key.withUnsafeBytes({ message.attribute(field, utf8: $0) }) else { return .none }
            return try WireValues.value(message.buffer, body)
        }
    }

    private static func fields(_ buffer: UnsafeRawBufferPointer, _ body: Range<Int>) throws(OTTLRuntimeError) -> WireFields {
        do { return try WireFields(buffer, body) } catch { throw OTTLRuntimeError("\(error)") }
    }

    /// The read for a path of the item context named `context`, or nil for a path it does not
    /// cover (the condition then evaluates that part on the syntax tree). Without
    /// `itemAttributes`, the item's attributes are not read from its encoding (a context that
    /// changes them holds them elsewhere).
    static func resolve(_ path: OTTLPath, context: String, itemAttributes: Bool = true) -> WireRead? {
        let path = path.normalized()
        guard path.fields.count == 1 else { return nil }
        if path.context == "resource" {
            return attributeKey(path).map { WireRead(level: .resource, kind: .attribute(1, $0)) }
        }
        if path.context == "scope" {
            return kind(path, attributes: 3, fields: ["name": .string(1), "version": .string(2)]).map { WireRead(level: .scope, kind: $0) }
        }
        guard path.context == nil || path.context == context, let item = itemFields[context],
              itemAttributes || path.field != "attributes" else { return nil }
        return kind(path, attributes: item.attributes, fields: item.fields).map { WireRead(level: .item, kind: $0) }
    }

    /// The fields of each item context that compile, by number (proto/), and the number of its
    /// attributes (0: none).
    private static let itemFields: [String: (attributes: Int, fields: [String: Kind])] = [
        SpanFields.name: (9, [
            "trace_state": .string(3), "name": .string(5), "kind": .int32(6),
            "start_time_unix_nano": .int64(7), "end_time_unix_nano": .int64(8),
            "dropped_attributes_count": .uint32(10), "dropped_events_count": .uint32(12),
            "dropped_links_count": .uint32(14), "flags": .uint32(16),
        ]),
        LogFields.name: (6, [
            "time_unix_nano": .int64(1), "severity_number": .int32(2), "severity_text": .string(3),
            "dropped_attributes_count": .uint32(7), "flags": .uint32(8), "observed_time_unix_nano": .int64(11),
            "event_name": .string(12),
        ]),
        MetricFields.name: (0, ["name": .string(1), "description": .string(2), "unit": .string(3)]),
    ]

    /// The key of `attributes["key"]`, or nil for any other path.
    private static func attributeKey(_ path: OTTLPath) -> [UInt8]? {
        guard path.field == "attributes", path.keys.count == 1, case .string(let key) = path.keys[0] else { return nil }
        return Array(key.utf8)
    }

    /// A level's field read: a plain field without keys, or one attribute.
    private static func kind(_ path: OTTLPath, attributes: Int, fields: [String: Kind]) -> Kind? {
        if path.field == "attributes" {
            guard attributes > 0 else { return nil }
            return attributeKey(path).map { .attribute(attributes, $0) }
        }
        guard path.keys.isEmpty else { return nil }
        return fields[path.field]
    }
}
