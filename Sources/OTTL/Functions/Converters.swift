import Crypto
import Foundation
import OTLP

/// Converters: functions that return a value and change nothing.
enum OTTLConverters {
    /// Name → (parameter names, how many are required).
    static let signatures: [String: (parameters: [String], required: Int)] = [
        "IsMatch": (["target", "pattern"], 2), "Concat": (["vals", "delimiter"], 2), "Split": (["target", "delimiter"], 2),
        "ParseJSON": (["target"], 1), "Int": (["value"], 1), "Double": (["value"], 1), "String": (["value"], 1),
        "IsString": (["value"], 1), "IsMap": (["value"], 1), "IsList": (["value"], 1), "IsInt": (["value"], 1),
        "IsDouble": (["value"], 1), "IsBool": (["value"], 1), "Len": (["target"], 1), "SHA256": (["value"], 1),
        "SHA1": (["value"], 1), "SHA512": (["value"], 1), "MD5": (["value"], 1), "FNV": (["value"], 1),
        "TraceID": (["bytes"], 1), "SpanID": (["bytes"], 1), "Substring": (["target", "start", "length"], 3),
        "ConvertCase": (["target", "toCase"], 2), "ToLowerCase": (["target"], 1), "ToUpperCase": (["target"], 1),
        "Now": ([], 0), "UnixNano": (["time"], 1), "UnixMilli": (["time"], 1), "UnixMicro": (["time"], 1),
        "UnixSeconds": (["time"], 1), "Unix": (["seconds", "nanoseconds"], 1), "Duration": (["duration"], 1),
        "Hex": (["value"], 1), "Trim": (["target", "replacement"], 1),
        "Time": (["time", "format", "location", "locale"], 2), "FormatTime": (["time", "format"], 2),
    ]

    static func call(_ name: String, _ args: OTTLFunctionArguments) throws(OTTLRuntimeError) -> OTTLValue {
        switch name {
        case "IsMatch":
            let target = try args.required(0, "target")
            if case .none = target { return .bool(false) }
            return .bool(try OTTLRegex.matches(try args.string(1, "pattern"), target.text))
        case "Concat":
            guard case .list(let values) = try args.required(0, "vals") else { throw OTTLRuntimeError("Concat takes a list") }
            let parts = values.map(OTTLValue.init).compactMap { value -> String? in
                switch value { case .map, .list: nil; default: value.text }
            }
            return .string(parts.joined(separator: try args.string(1, "delimiter")))
        case "Split":
            let target = try args.required(0, "target")
            guard case .string(let text) = target else { return .none }
            let delimiter = try args.string(1, "delimiter")
            let parts = delimiter.isEmpty ? text.map(String.init) : text.components(separatedBy: delimiter)
            return .list(parts.map { part in .with { $0.stringValue = part } })
        case "ParseJSON":
            guard case .string(let text) = try args.required(0, "target"),
                  let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw OTTLRuntimeError("ParseJSON: not JSON")
            }
            let value = parsed.ottl
            guard case .map = value else { if case .list = value { return value }; throw OTTLRuntimeError("ParseJSON: not an object or array") }
            return value
        case "Int":
            switch try args.required(0, "value") {
            case .int(let i): return .int(i)
            case .double(let d) where d.isFinite: return .int(Int64(d.rounded(.towardZero)))
            case .string(let s): return Int64(s.trimmingCharacters(in: .whitespaces)).map(OTTLValue.int) ?? .none
            case .bool(let b): return .int(b ? 1 : 0)
            default: return .none
            }
        case "Double":
            switch try args.required(0, "value") {
            case .int(let i): return .double(Double(i))
            case .double(let d): return .double(d)
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).map(OTTLValue.double) ?? .none
            case .bool(let b): return .double(b ? 1 : 0)
            default: return .none
            }
        case "String":
            let value = try args.required(0, "value")
            if case .none = value { return .none }
            return .string(value.text)
        case "IsString": if case .string = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case "IsMap": if case .map = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case "IsList": if case .list = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case "IsInt": if case .int = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case "IsDouble": if case .double = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case "IsBool": if case .bool = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case "Len":
            switch try args.required(0, "target") {
            case .string(let s): return .int(Int64(s.count))
            case .list(let l): return .int(Int64(l.count))
            case .map(let m): return .int(Int64(m.count))
            case .bytes(let b): return .int(Int64(b.count))
            case let other: throw OTTLRuntimeError("Len: cannot measure a \(other.typeName)")
            }
        case "SHA256": return .string(hex(SHA256.hash(data: Array(try args.string(0, "value").utf8))))
        case "SHA1": return .string(hex(Insecure.SHA1.hash(data: Array(try args.string(0, "value").utf8))))
        case "SHA512": return .string(hex(SHA512.hash(data: Array(try args.string(0, "value").utf8))))
        case "MD5": return .string(hex(Insecure.MD5.hash(data: Array(try args.string(0, "value").utf8))))
        case "FNV":
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in try args.string(0, "value").utf8 { hash ^= UInt64(byte); hash = hash &* 0x100_0000_01b3 }
            return .int(Int64(bitPattern: hash))
        case "TraceID", "SpanID":
            guard case .bytes(let bytes) = try args.required(0, "bytes"), bytes.count == (name == "TraceID" ? 16 : 8) else {
                throw OTTLRuntimeError("\(name) takes \(name == "TraceID" ? 16 : 8) bytes")
            }
            return .bytes(bytes)
        case "Substring":
            guard case .string(let text) = try args.required(0, "target") else { throw OTTLRuntimeError("Substring takes a string") }
            let start = Int(try args.int(1, "start")), length = Int(try args.int(2, "length"))
            let utf = Array(text.unicodeScalars)
            guard start >= 0, length >= 0, start + length <= utf.count else {
                throw OTTLRuntimeError("Substring: \(start)+\(length) is out of range for length \(utf.count)")
            }
            return .string(String(String.UnicodeScalarView(utf[start..<(start + length)])))
        case "ConvertCase", "ToLowerCase", "ToUpperCase":
            guard case .string(let text) = try args.required(0, "target") else { return .none }
            let target = name == "ConvertCase" ? try args.string(1, "toCase") : (name == "ToLowerCase" ? "lower" : "upper")
            switch target {
            case "lower": return .string(text.lowercased())
            case "upper": return .string(text.uppercased())
            case "snake": return .string(words(text).map { $0.lowercased() }.joined(separator: "_"))
            case "camel": return .string(words(text).map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined())
            default: throw OTTLRuntimeError("ConvertCase: unknown case \"\(target)\"")
            }
        case "Now": return .time(Date())
        case "UnixNano", "UnixMilli", "UnixMicro", "UnixSeconds":
            guard case .time(let date) = try args.required(0, "time") else { throw OTTLRuntimeError("\(name) takes a time") }
            let scale: Double = switch name { case "UnixNano": 1e9; case "UnixMicro": 1e6; case "UnixMilli": 1e3; default: 1 }
            return .int(Int64(date.timeIntervalSince1970 * scale))
        case "Unix":
            let nanoseconds: Int64 = args.value(1, "nanoseconds").flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 0
            return .time(Date(timeIntervalSince1970: Double(try args.int(0, "seconds")) + Double(nanoseconds) / 1e9))
        case "Duration":
            let text = try args.string(0, "duration")
            guard let duration = GoDuration.parse(text) else { throw OTTLRuntimeError("Duration: invalid duration \"\(text)\"") }
            return .duration(duration)
        case "Hex": return .string(try args.required(0, "value").hexText)
        case "Time":
            guard case .string(let text) = try args.required(0, "time"), !text.isEmpty else { throw OTTLRuntimeError("Time takes a non-empty string") }
            let formatter = try OTTLTimeFormat.formatter(try args.string(1, "format"), location: try args.optionalString(2, "location"))
            guard let date = formatter.date(from: text) else { throw OTTLRuntimeError("Time: \"\(text)\" does not match the format") }
            return .time(date)
        case "FormatTime":
            guard case .time(let date) = try args.required(0, "time") else { throw OTTLRuntimeError("FormatTime takes a time") }
            return .string(try OTTLTimeFormat.formatter(try args.string(1, "format"), location: nil).string(from: date))
        case "Trim":
            guard case .string(let text) = try args.required(0, "target") else { return .none }
            let cut = try args.optionalString(1, "replacement") ?? " "
            return .string(text.trimmingCharacters(in: CharacterSet(charactersIn: cut)))
        default:
            throw OTTLRuntimeError("unknown converter \(name)")
        }
    }

    private static func hex(_ digest: some Sequence<UInt8>) -> String { hexString(digest) }

    /// Words of a name in any case style, for snake and camel case.
    private static func words(_ text: String) -> [String] {
        var words: [String] = []
        var current = ""
        for character in text {
            if character == "_" || character == "-" || character == " " || character == "." {
                if !current.isEmpty { words.append(current); current = "" }
            } else if character.isUppercase, let last = current.last, last.isLowercase || last.isNumber {
                words.append(current)
                current = String(character)
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }
}

/// JSON as ParseJSON reads it: numbers become doubles, object keys are sorted.
private enum JSONValue: Decodable {
    case null, bool(Bool), number(Double), string(String), list([JSONValue]), object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let d = try? container.decode(Double.self) { self = .number(d) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let l = try? container.decode([JSONValue].self) { self = .list(l) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    var ottl: OTTLValue {
        switch self {
        case .null: .none
        case .bool(let b): .bool(b)
        case .number(let d): .double(d)
        case .string(let s): .string(s)
        case .list(let l): .list(l.compactMap { $0.ottl.anyValue })
        case .object(let o): .map(o.keys.sorted().compactMap { key in o[key]?.ottl.anyValue.map { value in .with { $0.key = key; $0.value = value } } })
        }
    }
}

extension OTTLValue {
    var hexText: String {
        switch self {
        case .bytes(let b): hexString(b)
        case .string(let s): hexString(s.utf8)
        case .int(let i): withUnsafeBytes(of: i.bigEndian) { hexString($0) }
        default: text
        }
    }
}

/// Go's duration syntax (`1h30m`, `250ms`).
enum GoDuration {
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var sign = 1.0
        if rest.first == "-" { sign = -1; rest = rest.dropFirst() }
        if rest == "0" { return .zero }
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { !$0.isNumber && $0 != "." }
            guard let scale = units.first(where: { $0.0 == unit })?.1 else { return nil }
            rest = rest.dropFirst(unit.count)
            total += value * scale
        }
        return .nanoseconds(Int64(total * sign))
    }
}
