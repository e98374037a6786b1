import Foundation
import OTLP

/// Runs parsed statements and conditions on a context.
public enum OTTLEvaluator {
    public static func value<C: OTTLContext>(_ expression: OTTLExpression, _ context: inout C) throws(OTTLRuntimeError) -> OTTLValue {
        switch expression {
        case .literal(let value): return value
        case .path(let path): return try context.get(path)
        case .converter(let call):
            guard let converter = call.converter else { throw OTTLRuntimeError("unknown converter \(call.name)") }
            let args = OTTLFunctionArguments(name: call.name, values: try values(call.slots, &context), regex: call.regex)
            return try PathValues.lookup(try converter.call(args), call.keys[...])
        case .list(let items):
            var values: [AnyValue] = []
            for item in items {
                let v = try value(item, &context)
                guard let stored = v.anyValue else { throw OTTLRuntimeError("a list cannot hold a \(v.typeName)") }
                values.append(stored)
            }
            return .list(values)
        case .map(let entries):
            var map: [KeyValue] = []
            for (key, item) in entries {
                if let stored = try value(item, &context).anyValue { map.ottlSet(key, stored) }
            }
            return .map(map)
        case .math(let left, let op, let right):
            return try OTTLMath.apply(try value(left, &context), op, try value(right, &context))
        case .condition(let condition):
            return .bool(try test(condition, &context))
        }
    }

    public static func test<C: OTTLContext>(_ condition: OTTLCondition, _ context: inout C) throws(OTTLRuntimeError) -> Bool {
        switch condition {
        case .constant(let b): return b
        case .not(let inner): return !(try test(inner, &context))
        case .and(let parts):
            for part in parts where !(try test(part, &context)) { return false }
            return true
        case .or(let parts):
            for part in parts where try test(part, &context) { return true }
            return false
        case .value(let expression):
            guard case .bool(let b) = try value(expression, &context) else {
                throw OTTLRuntimeError("a condition's converter must return a bool")
            }
            return b
        case .comparison(let left, let op, let right):
            return OTTLComparison.compare(try value(left, &context), op, try value(right, &context))
        }
    }

    /// Runs the statement's editor when its `where` condition holds.
    public static func run<C: OTTLContext>(_ statement: OTTLStatement, _ context: inout C) throws(OTTLRuntimeError) {
        if let condition = statement.condition, !(try test(condition, &context)) { return }
        try runEditor(statement, &context)
    }

    /// Runs the statement's editor, whatever its condition.
    static func runEditor<C: OTTLContext>(_ statement: OTTLStatement, _ context: inout C) throws(OTTLRuntimeError) {
        guard let editor = statement.function, case .path(let target)? = statement.arguments.first?.value else {
            throw OTTLRuntimeError("\(statement.editor) is not an editor taking a path first")
        }
        let args = OTTLFunctionArguments(name: statement.editor, values: try values(statement.slots, &context), regex: statement.regex)
        try editor.run(target, args, &context)
    }

    /// Evaluates a call's arguments in parameter order; nil stays nil (a parameter not given).
    private static func values<C: OTTLContext>(_ slots: [OTTLExpression?], _ context: inout C) throws(OTTLRuntimeError) -> [OTTLValue?] {
        var values: [OTTLValue?] = []
        values.reserveCapacity(slots.count)
        for slot in slots {
            if let slot { values.append(try value(slot, &context)) } else { values.append(nil) }
        }
        return values
    }
}

/// The language's comparison rules: numbers across int and double, nil equal only to nil, and
/// values of different types unequal (never an error). Strings compare by their UTF-8 bytes, as
/// Go compares strings (Swift's `==` would take canonically equivalent texts as equal).
enum OTTLComparison {
    enum Operator: String, Sendable {
        case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

        /// Whether the operator holds for operands whose order is `order` (negative, 0, positive).
        func holds(order: Int) -> Bool {
            switch self {
            case .equal: order == 0
            case .notEqual: order != 0
            case .less: order < 0
            case .lessOrEqual: order <= 0
            case .greater: order > 0
            case .greaterOrEqual: order >= 0
            }
        }

        /// Whether `a op b` holds.
        @inline(__always)
        func holds<T: Comparable>(_ a: T, _ b: T) -> Bool { holds(order: a < b ? -1 : a == b ? 0 : 1) }
    }

    static func compare(_ left: OTTLValue, _ op: String, _ right: OTTLValue) -> Bool {
        guard let op = Operator(rawValue: op) else { return false }
        return compare(left, op, right)
    }

    static func compare(_ left: OTTLValue, _ op: Operator, _ right: OTTLValue) -> Bool {
        func ordered<T: Comparable>(_ a: T, _ b: T) -> Bool { op.holds(a, b) }
        func equality(_ equal: Bool) -> Bool { op == .equal ? equal : op == .notEqual ? !equal : false }
        switch (left, right) {
        case (.none, .none): return equality(true)
        case (.int(let a), .int(let b)): return ordered(a, b)
        case (.double(let a), .double(let b)): return ordered(a, b)
        case (.int(let a), .double(let b)): return ordered(Double(a), b)
        case (.double(let a), .int(let b)): return ordered(a, Double(b))
        case (.string(var a), .string(var b)):
            return a.withUTF8 { a in b.withUTF8 { b in op.holds(order: byteOrder(UnsafeRawBufferPointer(a), UnsafeRawBufferPointer(b))) } }
        case (.bool(let a), .bool(let b)): return ordered(a ? 1 : 0, b ? 1 : 0)
        case (.time(let a), .time(let b)): return ordered(a, b)
        case (.duration(let a), .duration(let b)): return ordered(a, b)
        case (.bytes(let a), .bytes(let b)): return equality(a == b)
        case (.map, .map), (.list, .list): return equality(left == right)
        default: return equality(false)
        }
    }

    /// The order of two byte strings, as Go orders strings: by the first differing byte, then by
    /// length.
    static func byteOrder(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0, let x = a.baseAddress, let y = b.baseAddress {
            let order = memcmp(x, y, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }
}

enum OTTLMath {
    static func apply(_ left: OTTLValue, _ op: Character, _ right: OTTLValue) throws(OTTLRuntimeError) -> OTTLValue {
        switch (left, right) {
        case (.int(let a), .int(let b)):
            switch op {
            case "+": return .int(a &+ b)
            case "-": return .int(a &- b)
            case "*": return .int(a &* b)
            default:
                guard b != 0 else { throw OTTLRuntimeError("division by zero") }
                return .int(a / b)
            }
        case (.double(let a), .double(let b)):
            switch op {
            case "+": return .double(a + b)
            case "-": return .double(a - b)
            case "*": return .double(a * b)
            default:
                guard b != 0 else { throw OTTLRuntimeError("division by zero") }
                return .double(a / b)
            }
        case (.time(let a), .time(let b)) where op == "-":
            return .duration(.nanoseconds(Int64((a.timeIntervalSince1970 - b.timeIntervalSince1970) * 1e9)))
        case (.time(let a), .duration(let d)) where op == "+" || op == "-":
            let seconds = Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
            return .time(a.addingTimeInterval(op == "+" ? seconds : -seconds))
        case (.duration(let a), .duration(let b)) where op == "+" || op == "-":
            return .duration(op == "+" ? a + b : a - b)
        default:
            throw OTTLRuntimeError("cannot apply \(op) to \(left.typeName) and \(right.typeName)")
        }
    }
}
