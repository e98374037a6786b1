import Foundation

/// Writes JSON into a byte buffer, keys in the order they are written. Hand-written because the
/// document shapes fix the key order and number forms (doubles keep a radix point so Elasticsearch
/// maps them as floats), and because this is the exporter's hot path.
struct JSONWriter {
    var bytes: [UInt8] = []
    /// Whether each open object or array already holds a member, as a stack of bits: bit 0 is the
    /// innermost. Levels pushed out beyond 64 wait in `deeper`. Bits, because an array of flags
    /// cost more per member than writing the member.
    private var members: UInt64 = 0
    private var depth = 0
    private var deeper: [Bool] = []
    private var afterKey = false

    init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        members = 0
        depth = 0
        deeper.removeAll()
        afterKey = false
    }

    @inline(__always)
    private mutating func separate() {
        if afterKey { afterKey = false; return }
        guard depth > 0 else { return }
        if members & 1 != 0 { bytes.append(UInt8(ascii: ",")) } else { members |= 1 }
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        bytes.append(bracket)
        if depth >= 64 { deeper.append(members >> 63 != 0) }
        members <<= 1
        depth += 1
    }

    private mutating func close(_ bracket: UInt8) {
        members >>= 1
        depth -= 1
        if depth >= 64, let outer = deeper.popLast(), outer { members |= 1 << 63 }
        bytes.append(bracket)
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    /// A key known when compiling: written as it is, without looking for characters to escape
    /// (the document shapes' keys are plain ASCII).
    mutating func key(_ name: StaticString) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// A key from the data (attribute keys, field names from config).
    mutating func dynamicKey(_ name: String) {
        separate()
        writeQuoted(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func string(_ value: String) { separate(); writeQuoted(value) }
    mutating func bool(_ value: Bool) { separate(); bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    mutating func null() { separate(); bytes.append(contentsOf: "null".utf8) }
    mutating func int(_ value: Int64) {
        separate()
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    mutating func uint(_ value: UInt64) { separate(); appendDigits(value) }

    /// A double with a radix point or exponent; NaN and infinities (not JSON) as null.
    mutating func double(_ value: Double) {
        guard value.isFinite else { null(); return }
        separate()
        let text = value.description
        bytes.append(contentsOf: text.utf8)
        if !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { bytes.append(contentsOf: ".0".utf8) }
    }

    /// A key from UTF-8 bytes of an encoded request; false, with nothing written, when they are
    /// not valid UTF-8 (which a decoder into the model would refuse as well).
    mutating func key(utf8 raw: UnsafeRawBufferPointer) -> Bool {
        guard Self.isValidUTF8(raw) else { return false }
        separate()
        writeQuoted(raw)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
        return true
    }

    /// A string from UTF-8 bytes of an encoded request; false, with nothing written, when invalid.
    mutating func string(utf8 raw: UnsafeRawBufferPointer) -> Bool {
        guard Self.isValidUTF8(raw) else { return false }
        separate()
        writeQuoted(raw)
        return true
    }

    /// `"<whole>.<fraction, six digits>"` of `value / 1_000_000`, without building strings.
    mutating func decimalMillionths(_ value: UInt64) {
        separate()
        bytes.append(UInt8(ascii: "\""))
        appendDigits(value / 1_000_000)
        bytes.append(UInt8(ascii: "."))
        var fraction = value % 1_000_000
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { out in
            for position in stride(from: 5, through: 0, by: -1) {
                out[position] = 0x30 + UInt8(fraction % 10)
                fraction /= 10
            }
            bytes.append(contentsOf: out)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Decimal digits of `value`, written into a buffer from the end and appended at once.
    private mutating func appendDigits(_ value: UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = 0x30 + UInt8(rest % 10)
                rest /= 10
            } while rest > 0
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start..<20]))
        }
    }

    private static func isValidUTF8(_ raw: UnsafeRawBufferPointer) -> Bool {
        !raw.contains { $0 >= 0x80 } || String(validating: raw, as: UTF8.self) != nil
    }

    mutating func hex(_ raw: UnsafeRawBufferPointer) {
        separate()
        let count = raw.count * 2 + 2
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { out in
            out[0] = UInt8(ascii: "\"")
            for (index, byte) in raw.enumerated() {
                out[1 + 2 * index] = Self.hexDigit(byte >> 4)
                out[2 + 2 * index] = Self.hexDigit(byte & 0x0F)
            }
            out[count - 1] = UInt8(ascii: "\"")
            bytes.append(contentsOf: UnsafeBufferPointer(out))
        }
    }

    /// Text already in JSON form (a nested document written elsewhere).
    mutating func raw(_ json: [UInt8]) { separate(); bytes.append(contentsOf: json) }
    mutating func raw(_ json: ArraySlice<UInt8>) { separate(); bytes.append(contentsOf: json) }

    mutating func hex(_ data: Data) {
        data.withUnsafeBytes { hex($0) }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

    /// Bytes that cannot be copied into a JSON string as they are (see `writeQuoted`).
    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == 0x22 || byte == 0x5C || byte == 0x3C || byte == 0x3E || byte == 0x26 || byte == 0xE2
    }

    /// `needsEscape` of every byte value, looked up while scanning strings from requests.
    private static let escapeTable: [Bool] = (0...255).map { needsEscape(UInt8($0)) }

    private static func needsEscaping(_ raw: UnsafeRawBufferPointer) -> Bool {
        escapeTable.withUnsafeBufferPointer { table in raw.contains { table[Int($0)] } }
    }

    /// Escapes what JSON requires plus `<`, `>`, `&` and U+2028/U+2029, as Go's encoder does, so
    /// documents are byte-compatible and safe to embed in HTML.
    private mutating func writeQuoted(_ text: String) {
        bytes.append(UInt8(ascii: "\""))
        let copied = text.utf8.withContiguousStorageIfAvailable { raw -> Bool in
            guard !Self.needsEscaping(UnsafeRawBufferPointer(raw)) else { return false }
            bytes.append(contentsOf: raw)
            return true
        }
        if copied != true { writeEscaped(Array(text.utf8)) }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeQuoted(_ raw: UnsafeRawBufferPointer) {
        bytes.append(UInt8(ascii: "\""))
        if Self.needsEscaping(raw) {
            writeEscaped(Array(raw))
        } else {
            bytes.append(contentsOf: raw)
        }
        bytes.append(UInt8(ascii: "\""))
    }

    private mutating func writeEscaped(_ utf8: [UInt8]) {
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            index += 1
            guard Self.needsEscape(byte) else { bytes.append(byte); continue }
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): bytes.append(contentsOf: #"\\"#.utf8)
            case UInt8(ascii: "\n"): bytes.append(contentsOf: #"\n"#.utf8)
            case UInt8(ascii: "\r"): bytes.append(contentsOf: #"\r"#.utf8)
            case UInt8(ascii: "\t"): bytes.append(contentsOf: #"\t"#.utf8)
            case 0xE2:
                // U+2028 and U+2029 are E2 80 A8 / E2 80 A9; other characters led by E2 pass.
                if index + 1 < utf8.count, utf8[index] == 0x80, utf8[index + 1] == 0xA8 || utf8[index + 1] == 0xA9 {
                    writeUnicodeEscape(utf8[index + 1] == 0xA8 ? 0x2028 : 0x2029)
                    index += 2
                } else {
                    bytes.append(byte)
                }
            default: writeUnicodeEscape(UInt16(byte))
            }
        }
    }

    private mutating func writeUnicodeEscape(_ code: UInt16) {
        bytes.append(contentsOf: #"\u"#.utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            bytes.append(Self.hexDigit(UInt8((code >> UInt16(shift)) & 0xF)))
        }
    }
}
