import OTLP

/// Compiled conditions laid out flat for testing item after item: each condition's tree becomes a
/// run of plain values in one array (an operator before its operands), and what the tree held by
/// reference (literal and key bytes, integer operands, patterns) lies in side arrays reached by
/// index. Testing a `WireCondition` retains and releases the box of every indirect case and the
/// arrays in its payloads, several times per item; walking the tape touches no reference count.
///
/// Built only from conditions that never evaluate on the syntax tree (`mayEvaluateGeneral`
/// false), and gives what `WireCondition.test` gives for them.
struct WireConditionTape: Sendable {
    private enum Code: UInt8, Sendable {
        case constant, not, and, or, stringEquals, isNil, compareIntegers, matches, compare
    }

    /// What a read reaches: a string field, the first entry with a key in a repeated KeyValue
    /// field, or a field of another type (which is never a string).
    private enum ReadKind: UInt8, Sendable { case string, attribute, other }

    /// One node. Every field is a plain value, so copying one out of the array costs no retain.
    private struct Op: Sendable {
        var code: Code
        /// `constant`'s value; `equal` of `stringEquals` and `isNil`.
        var flag = false
        var level: WireRead.Level = .item
        var readKind: ReadKind = .other
        var field: Int32 = 0
        /// The index after this node's operands: `and`, `or` and `not` test the nodes up to it.
        var end: Int32 = 0
        /// The attribute key's bytes in `bytes`.
        var keyStart: Int32 = 0
        var keyCount: Int32 = 0
        /// The literal's bytes in `bytes`, or the index into `integers`, `regexes` or `compares`.
        var start: Int32 = 0
        var count: Int32 = 0
        var comparison: OTTLComparison.Operator = .equal
    }

    private let ops: [Op]
    private let bytes: [UInt8]
    private let integers: [WireInteger]
    private let regexes: [GoRegex]
    /// Comparisons of values of any type, which evaluate through `OTTLValue` as before.
    private let compares: [WireCondition]
    /// Where each condition's first node lies.
    private let roots: [Int]

    var count: Int { roots.count }

    /// nil when a condition has a part that evaluates on the syntax tree.
    init?(_ conditions: [WireCondition]) {
        var builder = Builder()
        var roots: [Int] = []
        for condition in conditions {
            roots.append(builder.ops.count)
            guard builder.add(condition) else { return nil }
        }
        ops = builder.ops
        bytes = builder.bytes
        integers = builder.integers
        regexes = builder.regexes
        compares = builder.compares
        self.roots = roots
    }

    private struct Builder {
        var ops: [Op] = []
        var bytes: [UInt8] = []
        var integers: [WireInteger] = []
        var regexes: [GoRegex] = []
        var compares: [WireCondition] = []

        mutating func add(_ condition: WireCondition) -> Bool {
            let at = ops.count
            switch condition {
            case .constant(let value):
                ops.append(Op(code: .constant, flag: value))
            case .not(let inner):
                ops.append(Op(code: .not))
                guard add(inner) else { return false }
            case .and(let parts):
                ops.append(Op(code: .and))
                guard parts.allSatisfy({ add($0) }) else { return false }
            case .or(let parts):
                ops.append(Op(code: .or))
                guard parts.allSatisfy({ add($0) }) else { return false }
            case .stringEquals(let read, let literal, let equal):
                var op = self.op(.stringEquals, read)
                op.flag = equal
                (op.start, op.count) = (Int32(bytes.count), Int32(literal.count))
                bytes += literal
                ops.append(op)
            case .isNil(let read, let equal):
                var op = self.op(.isNil, read)
                op.flag = equal
                ops.append(op)
            case .compareIntegers(let left, let comparison, let right):
                var op = Op(code: .compareIntegers)
                (op.start, op.comparison) = (Int32(integers.count), comparison)
                integers += [left, right]
                ops.append(op)
            case .matches(let read, let regex, _):
                // An attribute may hold no string, which IsMatch decides on the syntax tree.
                guard !read.isAttribute else { return false }
                var op = self.op(.matches, read)
                op.start = Int32(regexes.count)
                regexes.append(regex)
                ops.append(op)
            case .compare:
                var op = Op(code: .compare)
                op.start = Int32(compares.count)
                compares.append(condition)
                ops.append(op)
            case .general:
                return false
            }
            ops[at].end = Int32(ops.count)
            return true
        }

        /// A node of `code` over `read`, its key stored.
        private mutating func op(_ code: Code, _ read: WireRead) -> Op {
            var op = Op(code: code, level: read.level)
            switch read.kind {
            case .string(let field): (op.readKind, op.field) = (.string, Int32(field))
            case .attribute(let field, let key):
                (op.readKind, op.field) = (.attribute, Int32(field))
                (op.keyStart, op.keyCount) = (Int32(bytes.count), Int32(key.count))
                bytes += key
            case .int32, .uint32, .int64: op.readKind = .other
            }
            return op
        }
    }

    /// Whether condition `index` holds for the item under its scope and resource. The three are
    /// passed on where they lie, never gathered into a `WireLevels`: copies of their indexes cost
    /// more than the reads.
    func holds(_ index: Int, _ item: WireFields, _ scope: WireFields, _ resource: WireFields) throws(OTTLRuntimeError) -> Bool {
        try ops.withUnsafeBufferPointer { ops throws(OTTLRuntimeError) in
            try bytes.withUnsafeBufferPointer { bytes throws(OTTLRuntimeError) in
                try test(roots[index], ops, UnsafeRawBufferPointer(bytes), item, scope, resource)
            }
        }
    }

    private func test(_ at: Int, _ ops: UnsafeBufferPointer<Op>, _ bytes: UnsafeRawBufferPointer,
                      _ item: WireFields, _ scope: WireFields, _ resource: WireFields) throws(OTTLRuntimeError) -> Bool {
        let op = ops[at]
        switch op.code {
        case .constant: return op.flag
        case .not: return !(try test(at + 1, ops, bytes, item, scope, resource))
        case .and, .or:
            // An `and` stops at the first part that fails, an `or` at the first that holds.
            let stopsOn = op.code == .or
            var part = at + 1
            while part < Int(op.end) {
                if try test(part, ops, bytes, item, scope, resource) == stopsOn { return stopsOn }
                part = Int(ops[part].end)
            }
            return !stopsOn
        case .stringEquals:
            let literal = UnsafeRawBufferPointer(rebasing: bytes[Int(op.start)..<Int(op.start + op.count)])
            return try found(op, bytes, item, scope, resource).equals(literal, in: buffer(op.level, item, scope, resource), equal: op.flag)
        case .isNil:
            return try found(op, bytes, item, scope, resource).isNil(equal: op.flag)
        case .compareIntegers:
            return op.comparison.holds(integers[Int(op.start)].value(item, scope, resource),
                                       integers[Int(op.start) + 1].value(item, scope, resource))
        case .matches:
            guard case .string(let range) = try found(op, bytes, item, scope, resource) else { return false }
            return regexes[Int(op.start)].matches(received: UnsafeRawBufferPointer(rebasing: buffer(op.level, item, scope, resource)[range]))
        case .compare:
            return try compares[Int(op.start)].test(WireLevels(item: item, scope: scope, resource: resource),
                                                    general: WireCondition.noGeneral)
        }
    }

    @inline(__always)
    private func found(_ op: Op, _ bytes: UnsafeRawBufferPointer, _ item: WireFields, _ scope: WireFields,
                       _ resource: WireFields) throws(OTTLRuntimeError) -> WireRead.Found {
        switch op.level {
        case .item: try found(op, item, bytes)
        case .scope: try found(op, scope, bytes)
        case .resource: try found(op, resource, bytes)
        }
    }

    @inline(__always)
    private func buffer(_ level: WireRead.Level, _ item: WireFields, _ scope: WireFields, _ resource: WireFields) -> UnsafeRawBufferPointer {
        switch level {
        case .item: item.buffer
        case .scope: scope.buffer
        case .resource: resource.buffer
        }
    }

    @inline(__always)
    private func found(_ op: Op, _ message: WireFields, _ bytes: UnsafeRawBufferPointer) throws(OTTLRuntimeError) -> WireRead.Found {
        switch op.readKind {
        case .string: return .string(message.bytesRange(Int(op.field)))
        case .attribute:
            let key = UnsafeRawBufferPointer(rebasing: bytes[Int(op.keyStart)..<Int(op.keyStart + op.keyCount)])
            return try WireRead.found(message, Int(op.field), key)
        case .other: return .other
        }
    }
}
