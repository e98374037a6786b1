import Foundation
import OTLP

/// Reading OTTL values from encoded messages: attributes are found by comparing key bytes, scalar
/// values are read where they lie, and only maps and lists are decoded into the model (rare in
/// conditions, and then only the one value).
enum WireValues {
    /// An encoded AnyValue as OTTL sees it. Of several members of its oneof, the last counts.
    static func value(_ buffer: UnsafeRawBufferPointer, _ body: Range<Int>) throws(OTTLRuntimeError) -> OTTLValue {
        let fields: WireFields
        do { fields = try WireFields(buffer, body) } catch { throw OTTLRuntimeError("\(error)") }
        switch fields.lastPresent(1...7) {
        case 1: return .string(fields.string(1))
        case 2: return .bool(fields.uint(2) != 0)
        case 3: return .int(Int64(bitPattern: fields.uint(3)))
        case 4: return .double(Double(bitPattern: fields.uint(4)))
        case 7: return .bytes(Array(fields.bytes(7)))
        case 5, 6: return OTTLValue(try decode(AnyValue.self, buffer, body))
        default: return .none
        }
    }

    /// The repeated KeyValue `field` decoded, for paths that read a whole map.
    static func map(_ message: WireFields, _ field: Int) throws(OTTLRuntimeError) -> [KeyValue] {
        var entries: [KeyValue] = []
        try message.forEach(field) { (entry) throws(OTTLRuntimeError) -> Bool in
            entries.append(try decode(KeyValue.self, message.buffer, entry))
            return true
        }
        return entries
    }

    /// `attributes`, `attributes["k"]` or `attributes["k"][…]` from the repeated KeyValue `field`.
    static func getMap(_ message: WireFields, _ field: Int, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        guard case .string(let key)? = path.keys.first else {
            return try PathValues.lookup(.map(try map(message, field)), path.keys[...])
        }
        guard let body = message.attribute(field, key) else { return .none }
        let value = try value(message.buffer, body)
        return path.keys.count == 1 ? value : try PathValues.lookup(value, path.keys.dropFirst())
    }

    static func id(_ message: WireFields, _ field: Int, _ path: OTTLPath) -> OTTLValue {
        PathValues.id(Data(message.bytes(field)), path)
    }

    /// The protobuf types of integer fields, which OTTL reads as int.
    enum IntegerType: Sendable { case int32, uint32, int64 }

    static func integer(_ message: WireFields, _ field: Int, _ type: IntegerType) -> Int64 {
        let bits = message.uint(field)
        switch type {
        case .int32: return Int64(Int32(truncatingIfNeeded: bits))
        case .uint32: return Int64(UInt32(truncatingIfNeeded: bits))
        case .int64: return Int64(bitPattern: bits)
        }
    }

    static func int32(_ message: WireFields, _ field: Int) -> OTTLValue { .int(integer(message, field, .int32)) }

    static func uint32(_ message: WireFields, _ field: Int) -> OTTLValue { .int(integer(message, field, .uint32)) }

    static func int64(_ message: WireFields, _ field: Int) -> OTTLValue { .int(integer(message, field, .int64)) }

    private static func decode<M: WireDecodable>(_ type: M.Type, _ buffer: UnsafeRawBufferPointer,
                                                 _ body: Range<Int>) throws(OTTLRuntimeError) -> M {
        do {
            return try M(decoding: buffer, body)
        } catch {
            throw OTTLRuntimeError("cannot decode a \(M.self): \(error)")
        }
    }
}

/// The error every write to an encoded context gives: conditions only read.
func readOnly(_ path: OTTLPath) -> OTTLRuntimeError {
    OTTLRuntimeError("cannot set \(path): this context only reads")
}
