import Crypto
import Foundation
import OTLP

/// Converters: functions that return a value and change nothing. Each is one case: its
/// parameters and its implementation are both switches over the case, so neither can lack one.
/// Calls are resolved to a case when parsed, never by name per item.
enum OTTLConverter: String, CaseIterable, Sendable {
    case isMatch = "IsMatch", concat = "Concat", split = "Split", parseJSON = "ParseJSON", int = "Int"
    case double = "Double", string = "String", isString = "IsString", isMap = "IsMap"
    case isList = "IsList", isInt = "IsInt", isDouble = "IsDouble", isBool = "IsBool", len = "Len"
    case sha256 = "SHA256", sha1 = "SHA1", sha512 = "SHA512", md5 = "MD5", fnv = "FNV"
    case traceID = "TraceID", spanID = "SpanID", substring = "Substring", convertCase = "ConvertCase"
    case toLowerCase = "ToLowerCase", toUpperCase = "ToUpperCase", now = "Now", unixNano = "UnixNano"
    case unixMilli = "UnixMilli", unixMicro = "UnixMicro", unixSeconds = "UnixSeconds", unix = "Unix"
    case duration = "Duration", hex = "Hex", trim = "Trim", time = "Time", formatTime = "FormatTime"

    var signature: OTTLSignature {
        switch self {
        case .isMatch: OTTLSignature(["target", "pattern"], required: 2, regex: 1)
        case .concat: OTTLSignature(["vals", "delimiter"], required: 2)
        case .split: OTTLSignature(["target", "delimiter"], required: 2)
        case .parseJSON: OTTLSignature(["target"], required: 1)
        case .int: OTTLSignature(["value"], required: 1)
        case .double: OTTLSignature(["value"], required: 1)
        case .string: OTTLSignature(["value"], required: 1)
        case .isString: OTTLSignature(["value"], required: 1)
        case .isMap: OTTLSignature(["value"], required: 1)
        case .isList: OTTLSignature(["value"], required: 1)
        case .isInt: OTTLSignature(["value"], required: 1)
        case .isDouble: OTTLSignature(["value"], required: 1)
        case .isBool: OTTLSignature(["value"], required: 1)
        case .len: OTTLSignature(["target"], required: 1)
        case .sha256: OTTLSignature(["value"], required: 1)
        case .sha1: OTTLSignature(["value"], required: 1)
        case .sha512: OTTLSignature(["value"], required: 1)
        case .md5: OTTLSignature(["value"], required: 1)
        case .fnv: OTTLSignature(["value"], required: 1)
        case .traceID: OTTLSignature(["bytes"], required: 1)
        case .spanID: OTTLSignature(["bytes"], required: 1)
        case .substring: OTTLSignature(["target", "start", "length"], required: 3)
        case .convertCase: OTTLSignature(["target", "toCase"], required: 2)
        case .toLowerCase: OTTLSignature(["target"], required: 1)
        case .toUpperCase: OTTLSignature(["target"], required: 1)
        case .now: OTTLSignature([], required: 0)
        case .unixNano: OTTLSignature(["time"], required: 1)
        case .unixMilli: OTTLSignature(["time"], required: 1)
        case .unixMicro: OTTLSignature(["time"], required: 1)
        case .unixSeconds: OTTLSignature(["time"], required: 1)
        case .unix: OTTLSignature(["seconds", "nanoseconds"], required: 1)
        case .duration: OTTLSignature(["duration"], required: 1)
        case .hex: OTTLSignature(["value"], required: 1)
        case .trim: OTTLSignature(["target", "replacement"], required: 1)
        case .time: OTTLSignature(["time", "format", "location", "locale"], required: 2)
        case .formatTime: OTTLSignature(["time", "format"], required: 2)
        }
    }

    func call(_ args: OTTLFunctionArguments) throws(OTTLRuntimeError) -> OTTLValue {
        switch self {
        case .isMatch:
            let target = try args.required(0, "target")
            if case .none = target { return .bool(false) }
            return .bool(try args.regex(1, "pattern").matches(target.text))
        case .concat:
            guard case .list(let values) = try args.required(0, "vals") else { throw OTTLRuntimeError("Concat takes a list") }
            let parts = values.map(OTTLValue.init).compactMap { value -> String? in
                switch value { case .map, .list: nil; default: value.text }
            }
            return .string(parts.joined(separator: try args.string(1, "delimiter")))
        case .split:
            let target = try args.required(0, "target")
            guard case .string(let text) = target else { return .none }
            let delimiter = try args.string(1, "delimiter")
            let parts = delimiter.isEmpty ? text.map(String.init) : text.components(separatedBy: delimiter)
            return .list(parts.map { part in .with { $0.stringValue = part } })
        case .parseJSON:
            guard case .string(let text) = try args.required(0, "target"),
                  let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) else {
                throw OTTLRuntimeError("ParseJSON: not JSON")
            }
            let value = parsed.ottl
            guard case .map = value else { if case .list = value { return value }; throw OTTLRuntimeError("ParseJSON: not an object or array") }
            return value
        case .int:
            switch try args.required(0, "value") {
            case .int(let i): return .int(i)
            case .double(let d) where d.isFinite: return .int(Int64(d.rounded(.towardZero)))
            case .string(let s): return Int64(s.trimmingCharacters(in: .whitespaces)).map(OTTLValue.int) ?? .none
            case .bool(let b): return .int(b ? 1 : 0)
            default: return .none
            }
        case .double:
            switch try args.required(0, "value") {
            case .int(let i): return .double(Double(i))
            case .double(let d): return .double(d)
            case .string(let s): return Double(s.trimmingCharacters(in: .whitespaces)).map(OTTLValue.double) ?? .none
            case .bool(let b): return .double(b ? 1 : 0)
            default: return .none
            }
        case .string:
            let value = try args.required(0, "value")
            if case .none = value { return .none }
            return .string(value.text)
        case .isString: if case .string = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case .isMap: if case .map = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case .isList: if case .list = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case .isInt: if case .int = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case .isDouble: if case .double = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case .isBool: if case .bool = try args.required(0, "value") { return .bool(true) }; return .bool(false)
        case .len:
            switch try args.required(0, "target") {
            case .string(let s): return .int(Int64(s.count))
            case .list(let l): return .int(Int64(l.count))
            case .map(let m): return .int(Int64(m.count))
            case .bytes(let b): return .int(Int64(b.count))
            case let other: throw OTTLRuntimeError("Len: cannot measure a \(other.typeName)")
            }
        case .sha256: return .string(Self.hexDigest(SHA256.hash(data: Array(try args.string(0, "value").utf8))))
        case .sha1: return .string(Self.hexDigest(Insecure.SHA1.hash(data: Array(try args.string(0, "value").utf8))))
        case .sha512: return .string(Self.hexDigest(SHA512.hash(data: Array(try args.string(0, "value").utf8))))
        case .md5: return .string(Self.hexDigest(Insecure.MD5.hash(data: Array(try args.string(0, "value").utf8))))
        case .fnv:
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in try args.string(0, "value").utf8 { hash ^= UInt64(byte); hash = hash &* 0x100_0000_01b3 }
            return .int(Int64(bitPattern: hash))
        case .traceID, .spanID:
            guard case .bytes(let bytes) = try args.required(0, "bytes"), bytes.count == (self == .traceID ? 16 : 8) else {
                throw OTTLRuntimeError("\(rawValue) takes \(self == .traceID ? 16 : 8) bytes")
            }
            return .bytes(bytes)
        case .substring:
            guard case .string(let text) = try args.required(0, "target") else { throw OTTLRuntimeError("Substring takes a string") }
            let start = Int(try args.int(1, "start")), length = Int(try args.int(2, "length"))
            let utf = Array(text.unicodeScalars)
            guard start >= 0, length >= 0, start + length <= utf.count else {
                throw OTTLRuntimeError("Substring: \(start)+\(length) is out of range for length \(utf.count)")
            }
            return .string(String(String.UnicodeScalarView(utf[start..<(start + length)])))
        case .convertCase, .toLowerCase, .toUpperCase:
            guard case .string(let text) = try args.required(0, "target") else { return .none }
            let target = self == .convertCase ? try args.string(1, "toCase") : (self == .toLowerCase ? "lower" : "upper")
            switch target {
            case "lower": return .string(text.lowercased())
            case "upper": return .string(text.uppercased())
            case "snake": return .string(Self.words(text).map { $0.lowercased() }.joined(separator: "_"))
            case "camel": return .string(Self.words(text).map { $0.prefix(1).uppercased() + $0.dropFirst().lowercased() }.joined())
            default: throw OTTLRuntimeError("ConvertCase: unknown case \"\(target)\"")
            }
        case .now: return .time(Date())
        case .unixNano, .unixMilli, .unixMicro, .unixSeconds:
            guard case .time(let date) = try args.required(0, "time") else { throw OTTLRuntimeError("\(rawValue) takes a time") }
            let scale: Double = switch self { case .unixNano: 1e9; case .unixMicro: 1e6; case .unixMilli: 1e3; default: 1 }
            return .int(Int64(date.timeIntervalSince1970 * scale))
        case .unix:
            let nanoseconds: Int64 = args.value(1, "nanoseconds").flatMap { if case .int(let n) = $0 { n } else { nil } } ?? 0
            return .time(Date(timeIntervalSince1970: Double(try args.int(0, "seconds")) + Double(nanoseconds) / 1e9))
        case .duration:
            let text = try args.string(0, "duration")
            guard let duration = GoDuration.parse(text) else { throw OTTLRuntimeError("Duration: invalid duration \"\(text)\"") }
            return .duration(duration)
        case .hex: return .string(try args.required(0, "value").hexText)
        case .time:
            guard case .string(let text) = try args.required(0, "time"), !text.isEmpty else { throw OTTLRuntimeError("Time takes a non-empty string") }
            let formatter = try OTTLTimeFormat.formatter(try args.string(1, "format"), location: try args.optionalString(2, "location"))
            guard let date = formatter.date(from: text) else { throw OTTLRuntimeError("Time: \"\(text)\" does not match the format") }
            return .time(date)
        case .formatTime:
            guard case .time(let date) = try args.required(0, "time") else { throw OTTLRuntimeError("FormatTime takes a time") }
            return .string(try OTTLTimeFormat.formatter(try args.string(1, "format"), location: nil).string(from: date))
        case .trim:
            guard case .string(let text) = try args.required(0, "target") else { return .none }
            let cut = try args.optionalString(1, "replacement") ?? " "
            return .string(text.trimmingCharacters(in: CharacterSet(charactersIn: cut)))
        }
    }

    private static func hexDigest(_ digest: some Sequence<UInt8>) -> String { hexString(digest) }

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
