import Foundation
import OTLP

/// A value as OTTL sees it. Maps keep OTLP's ordered key-value list; lists hold OTLP values.
public enum OTTLValue: Sendable, Equatable {
    case none
    case string(String)
    case int(Int64)
    case double(Double)
    case bool(Bool)
    case bytes([UInt8])
    case map([KeyValue])
    case list([AnyValue])
    case time(Date)
    case duration(Duration)

    public init(_ value: AnyValue) {
        switch value.value {
        case .stringValue(let s): self = .string(s)
        case .intValue(let i): self = .int(i)
        case .doubleValue(let d): self = .double(d)
        case .boolValue(let b): self = .bool(b)
        case .bytesValue(let b): self = .bytes(Array(b))
        case .kvlistValue(let m): self = .map(m.values)
        case .arrayValue(let a): self = .list(a.values)
        case nil: self = .none
        }
    }

    /// The OTLP value to store; nil for values OTLP cannot hold (none, times, durations).
    public var anyValue: AnyValue? {
        switch self {
        case .none, .time, .duration: nil
        case .string(let s): .with { $0.stringValue = s }
        case .int(let i): .with { $0.intValue = i }
        case .double(let d): .with { $0.doubleValue = d }
        case .bool(let b): .with { $0.boolValue = b }
        case .bytes(let b): .with { $0.bytesValue = Data(b) }
        case .map(let m): .with { $0.kvlistValue.values = m }
        case .list(let l): .with { $0.arrayValue.values = l }
        }
    }

    /// The AnyValue encoding of the value to store (`anyValue`), scalars written directly.
    public var encodedAnyValue: [UInt8]? {
        switch self {
        case .string(let s): AnyValue.encoded(string: s)
        case .int(let i): AnyValue.encoded(int: i)
        case .double(let d): AnyValue.encoded(double: d)
        case .bool(let b): AnyValue.encoded(bool: b)
        default: anyValue?.encodedBody
        }
    }

    var typeName: String {
        switch self {
        case .none: "nil"
        case .string: "string"
        case .int: "int"
        case .double: "double"
        case .bool: "bool"
        case .bytes: "bytes"
        case .map: "map"
        case .list: "list"
        case .time: "time"
        case .duration: "duration"
        }
    }

    /// The text form converters use for non-strings: numbers as Go formats them, bytes as hex,
    /// maps and lists as JSON.
    public var text: String {
        switch self {
        case .none: ""
        case .string(let s): s
        case .int(let i): String(i)
        case .double(let d): d == d.rounded() && abs(d) < 1e21 ? String(format: "%.0f", d) : String(d)
        case .bool(let b): String(b)
        case .bytes(let b): hexString(b)
        case .map, .list: String(decoding: OTTLJSON.encode(self), as: UTF8.self)
        case .time(let t): ISO8601DateFormatter().string(from: t)
        case .duration(let d): "\(d)"
        }
    }
}

/// Map helpers: OTLP maps are lists where the first of equal keys counts.
extension Array where Element == KeyValue {
    public subscript(ottl key: String) -> AnyValue? {
        first(where: { $0.key == key })?.value
    }

    public mutating func ottlSet(_ key: String, _ value: AnyValue) {
        if let index = firstIndex(where: { $0.key == key }) { self[index].value = value } else { append(.with { $0.key = key; $0.value = value }) }
    }

    public mutating func ottlRemove(_ key: String) {
        removeAll { $0.key == key }
    }
}

/// JSON text of OTTL maps and lists (for `String`, `IsMatch` on non-strings).
enum OTTLJSON {
    static func encode(_ value: OTTLValue) -> [UInt8] {
        var out: [UInt8] = []
        write(value, &out)
        return out
    }

    private static func write(_ value: OTTLValue, _ out: inout [UInt8]) {
        switch value {
        case .map(let entries):
            out.append(UInt8(ascii: "{"))
            for (i, entry) in entries.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                quoted(entry.key, &out)
                out.append(UInt8(ascii: ":"))
                write(OTTLValue(entry.value), &out)
            }
            out.append(UInt8(ascii: "}"))
        case .list(let values):
            out.append(UInt8(ascii: "["))
            for (i, element) in values.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                write(OTTLValue(element), &out)
            }
            out.append(UInt8(ascii: "]"))
        case .string(let s): quoted(s, &out)
        case .none: out += Array("null".utf8)
        case .bytes(let b): quoted(Data(b).base64EncodedString(), &out)
        default: out += Array(value.text.utf8)
        }
    }

    private static func quoted(_ text: String, _ out: inout [UInt8]) {
        if let data = try? JSONSerialization.data(withJSONObject: [text]), data.count >= 2 {
            out += Array(data.dropFirst().dropLast())
        } else {
            out += Array("\"\"".utf8)
        }
    }
}
