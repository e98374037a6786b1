import Foundation
import OTLP

/// An error while evaluating an OTTL statement or condition on one item.
public struct OTTLRuntimeError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The item a statement or condition runs on, with the levels above it. Paths name a context
/// (`resource.attributes["k"]`) or, without one, the item's own context.
public protocol OTTLContext {
    /// The context's name in configs and path prefixes (`span`).
    static var name: String { get }
    /// The contexts whose paths this one can reach (itself and the levels above it).
    static var reachable: [String] { get }
    /// The fields of the context's own item, for checking paths when parsing.
    static var fields: Set<String> { get }
    mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue
    mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError)
    /// Applies a map editor's change to the map at `path`; a context that keeps a map in another
    /// form than `[KeyValue]` changes it there.
    mutating func edit(_ path: OTTLPath, _ edit: OTTLMapEdit) throws(OTTLRuntimeError)
    /// The condition in a form this context evaluates faster than the syntax tree, or nil.
    static func compile(_ condition: OTTLCondition) -> OTTLCompiledCondition<Self>?
    /// The statement in a form this context runs faster than the syntax tree, or nil.
    static func compile(_ statement: OTTLStatement) -> OTTLCompiledStatement<Self>?
}

/// A statement made ready for one context when its program is built: its `where` condition and
/// its editor together.
public struct OTTLCompiledStatement<C: OTTLContext>: Sendable {
    @usableFromInline let run: @Sendable (inout C) throws(OTTLRuntimeError) -> Void
}

/// A condition made ready for one context when its program is built (`OTTLContext.compile`).
public struct OTTLCompiledCondition<C: OTTLContext>: Sendable {
    @usableFromInline let test: @Sendable (inout C) throws(OTTLRuntimeError) -> Bool
}

extension OTTLContext {
    public static func compile(_ condition: OTTLCondition) -> OTTLCompiledCondition<Self>? { nil }
    public static func compile(_ statement: OTTLStatement) -> OTTLCompiledStatement<Self>? { nil }

    public mutating func edit(_ path: OTTLPath, _ edit: OTTLMapEdit) throws(OTTLRuntimeError) {
        try editThroughValues(path) { edit.apply(to: &$0) }
    }

    /// The map at `path` read as a value, changed, and written back; nothing when it is no map.
    mutating func editThroughValues(_ path: OTTLPath, _ edit: (inout [KeyValue]) -> Void) throws(OTTLRuntimeError) {
        guard case .map(var map) = try get(path) else { return }
        edit(&map)
        try set(path, .map(map))
    }
}

/// The context names paths may start with.
public let ottlContextNames: Set<String> = ["resource", "scope", "instrumentation_scope", "span", "spanevent", "metric", "datapoint", "log"]

extension OTTLPath {
    /// The path with its context named: a leading context name moves from the fields.
    func normalized() -> OTTLPath {
        guard context == nil, fields.count > 1, let first = fields.first, ottlContextNames.contains(first) else { return self }
        var copy = self
        copy.context = first == "instrumentation_scope" ? "scope" : first
        copy.fields.removeFirst()
        return copy
    }

    var field: String { fields.first ?? "" }
    var subfield: String? { fields.count > 1 ? fields[1] : nil }
}

extension OTTLContext {
    /// Throws when `path` does not exist in this context.
    public static func check(_ path: OTTLPath) throws(OTTLParseError) {
        let path = path.normalized()
        let context = path.context ?? name
        guard reachable.contains(context) else {
            throw OTTLParseError(message: "\(path) is not reachable from the \(name) context", column: path.column, text: "")
        }
        let known: Set<String> = switch context {
        case name: fields
        case "resource": ResourceFields.names
        case "scope": ScopeFields.names
        case "span": SpanFields.names
        case "metric": MetricFields.names
        default: []
        }
        guard known.contains(path.field) || path.field == "cache" && context == name else {
            throw OTTLParseError(message: "unknown path \(path) in the \(name) context", column: path.column, text: "")
        }
    }
}

// MARK: Shared path helpers

enum PathValues {
    /// A value inside a map or list by the path's indexes.
    static func lookup(_ value: OTTLValue, _ keys: ArraySlice<OTTLPath.Key>) throws(OTTLRuntimeError) -> OTTLValue {
        guard let key = keys.first else { return value }
        switch (value, key) {
        case (.map(let entries), .string(let k)):
            guard let found = entries[ottl: k] else { return .none }
            return try lookup(OTTLValue(found), keys.dropFirst())
        case (.list(let items), .int(let i)):
            guard i >= 0, i < items.count else { throw OTTLRuntimeError("index \(i) out of range (length \(items.count))") }
            return try lookup(OTTLValue(items[Int(i)]), keys.dropFirst())
        case (.none, _):
            return .none
        default:
            throw OTTLRuntimeError("cannot index a \(value.typeName) with \(key)")
        }
    }

    /// `container` with the value at the indexes replaced (created along the way in maps).
    static func assign(_ container: OTTLValue, _ keys: ArraySlice<OTTLPath.Key>, _ value: OTTLValue) throws(OTTLRuntimeError) -> OTTLValue {
        guard let key = keys.first else { return value }
        switch (container, key) {
        case (.map(var entries), .string(let k)):
            let inner = entries[ottl: k].map(OTTLValue.init) ?? (keys.count > 1 ? .map([]) : .none)
            let updated = try assign(inner, keys.dropFirst(), value)
            if let stored = updated.anyValue { entries.ottlSet(k, stored) } else { entries.ottlRemove(k) }
            return .map(entries)
        case (.list(var items), .int(let i)):
            guard i >= 0, i < items.count else { throw OTTLRuntimeError("index \(i) out of range (length \(items.count))") }
            let updated = try assign(OTTLValue(items[Int(i)]), keys.dropFirst(), value)
            guard let stored = updated.anyValue else { throw OTTLRuntimeError("cannot store \(updated.typeName) in a list") }
            items[Int(i)] = stored
            return .list(items)
        default:
            throw OTTLRuntimeError("cannot index a \(container.typeName) with \(key)")
        }
    }

    static func getMap(_ map: [KeyValue], _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        if path.keys.count == 1, case .string(let key) = path.keys[0] { return map[ottl: key].map(OTTLValue.init) ?? .none }
        return try lookup(.map(map), path.keys[...])
    }

    /// Edits a map stored in a message: taken out first, so the edit does not copy it.
    /// Sets `path` in the attributes `field` of `message`, changing them in place (`editInPlace`).
    static func editStoredMap<M>(_ message: inout M, _ field: WritableKeyPath<M, [KeyValue]>, _ path: OTTLPath,
                                 _ value: OTTLValue) throws(OTTLRuntimeError) {
        try editInPlace(&message, field) { (map: inout [KeyValue]) throws(OTTLRuntimeError) in try setMap(&map, path, value) }
    }

    static func setMap(_ map: inout [KeyValue], _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        if path.keys.count == 1, case .string(let key) = path.keys[0] {
            if let stored = value.anyValue { map.ottlSet(key, stored) } else { map.ottlRemove(key) }
            return
        }
        if path.keys.isEmpty {
            guard case .map(let entries) = value else { throw OTTLRuntimeError("\(path) takes a map, not a \(value.typeName)") }
            map = entries
            return
        }
        guard case .map(let entries) = try assign(.map(map), path.keys[...], value) else { return }
        map = entries
    }

    /// `trace_state`, or with a key (`trace_state["k"]`) that member's value.
    static func traceState(_ text: String, _ path: OTTLPath) -> OTTLValue {
        guard case .string(let key)? = path.keys.first else { return .string(text) }
        for entry in text.split(separator: ",") {
            let parts = entry.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == key { return .string(String(parts[1])) }
        }
        return .none
    }

    static func int(_ value: OTTLValue, _ path: OTTLPath) throws(OTTLRuntimeError) -> Int64 {
        guard case .int(let i) = value else { throw OTTLRuntimeError("\(path) takes an int, not a \(value.typeName)") }
        return i
    }

    static func string(_ value: OTTLValue, _ path: OTTLPath) throws(OTTLRuntimeError) -> String {
        guard case .string(let s) = value else { throw OTTLRuntimeError("\(path) takes a string, not a \(value.typeName)") }
        return s
    }

    static func double(_ value: OTTLValue, _ path: OTTLPath) throws(OTTLRuntimeError) -> Double {
        switch value {
        case .double(let d): return d
        case .int(let i): return Double(i)
        default: throw OTTLRuntimeError("\(path) takes a double, not a \(value.typeName)")
        }
    }

    static func bytes(_ value: OTTLValue, _ path: OTTLPath, count: Int) throws(OTTLRuntimeError) -> Data {
        guard case .bytes(let b) = value, b.count == count else { throw OTTLRuntimeError("\(path) takes \(count) bytes") }
        return Data(b)
    }

    static func id(_ data: Data, _ path: OTTLPath) -> OTTLValue {
        path.subfield == "string" ? .string(hexString(data)) : .bytes(Array(data))
    }

    static func time(_ nanoseconds: UInt64) -> OTTLValue {
        .time(Date(timeIntervalSince1970: Double(nanoseconds) / 1e9))
    }

    static func nanoseconds(_ value: OTTLValue, _ path: OTTLPath) throws(OTTLRuntimeError) -> UInt64 {
        switch value {
        case .int(let i) where i >= 0: return UInt64(i)
        case .time(let date): return UInt64(max(0, date.timeIntervalSince1970 * 1e9))
        default: throw OTTLRuntimeError("\(path) takes a time or an int of nanoseconds")
        }
    }
}
