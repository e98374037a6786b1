import Foundation

/// Writes JSON into a byte buffer, keys in the order they are written. Hand-written because the
/// document shapes fix the key order and number forms (doubles keep a radix point so Elasticsearch
/// maps them as floats), and because this is the exporter's hot path.
///
/// Noncopyable, over memory it owns: every span document is some hundred small writes, and on an
/// array each one paid a uniqueness check and a capacity check in the runtime, a fifth of the
/// exporter's CPU. Here a write is a capacity comparison and a copy.
struct JSONWriter: ~Copyable {
    private var storage: GrowableBytes
    /// Bytes written.
    private(set) var count: Int {
        get { storage.count }
        set { storage.count = newValue }
    }
    /// Whether each open object or array already holds a member, as a stack of bits: bit 0 is the
    /// innermost. Levels pushed out beyond 64 wait in `deeper`. Bits, because an array of flags
    /// cost more per member than writing the member.
    private var members: UInt64 = 0
    private var depth = 0
    private var deeper: [Bool] = []
    private var afterKey = false

    init(capacity: Int = 256) {
        storage = GrowableBytes(capacity: capacity)
    }

    /// A copy of what was written (for the paths that keep it: resource and scope objects, metric
    /// grouping keys).
    var bytes: [UInt8] { Array(storage.written) }

    /// What was written, without copying, for as long as `body` runs.
    func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(storage.written))
    }

    mutating func reset() {
        count = 0
        members = 0
        depth = 0
        deeper.removeAll()
        afterKey = false
    }

    // MARK: Buffer

    @inline(__always)
    private mutating func room(_ size: Int) -> UnsafeMutablePointer<UInt8> { storage.room(size) }

    @inline(__always)
    private mutating func append(_ byte: UInt8) {
        room(1).pointee = byte
        count += 1
    }

    @inline(__always)
    private mutating func append(_ raw: UnsafeRawBufferPointer) {
        guard let source = raw.baseAddress, !raw.isEmpty else { return }
        UnsafeMutableRawPointer(room(raw.count)).copyMemory(from: source, byteCount: raw.count)
        count += raw.count
    }

    @inline(__always)
    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { append(UnsafeRawBufferPointer($0)) }
    }

    // MARK: Structure

    @inline(__always)
    private mutating func separate() {
        if afterKey { afterKey = false; return }
        guard depth > 0 else { return }
        if members & 1 != 0 { append(UInt8(ascii: ",")) } else { members |= 1 }
    }

    private mutating func open(_ bracket: UInt8) {
        separate()
        append(bracket)
        if depth >= 64 { deeper.append(members >> 63 != 0) }
        members <<= 1
        depth += 1
    }

    private mutating func close(_ bracket: UInt8) {
        members >>= 1
        depth -= 1
        if depth >= 64, let outer = deeper.popLast(), outer { members |= 1 << 63 }
        append(bracket)
    }

    mutating func beginObject() { open(UInt8(ascii: "{")) }
    mutating func endObject() { close(UInt8(ascii: "}")) }
    mutating func beginArray() { open(UInt8(ascii: "[")) }
    mutating func endArray() { close(UInt8(ascii: "]")) }

    // MARK: Keys and values

    /// A key known when compiling: written as it is, without looking for characters to escape
    /// (the document shapes' keys are plain ASCII).
    mutating func key(_ name: StaticString) {
        separate()
        // String literals are stored as UTF-8 (a one-scalar StaticString may not be).
        guard name.hasPointerRepresentation else {
            append(UInt8(ascii: "\"")); append(name); append(UInt8(ascii: "\"")); append(UInt8(ascii: ":"))
            afterKey = true
            return
        }
        let length = name.utf8CodeUnitCount
        let out = room(length &+ 3)
        out[0] = UInt8(ascii: "\"")
        (out + 1).initialize(from: name.utf8Start, count: length)
        out[length &+ 1] = UInt8(ascii: "\"")
        out[length &+ 2] = UInt8(ascii: ":")
        count &+= length &+ 3
        afterKey = true
    }

    /// A key from the data (attribute keys, field names from config).
    mutating func dynamicKey(_ name: String) {
        separate()
        writeQuoted(name)
        append(UInt8(ascii: ":"))
        afterKey = true
    }

    mutating func string(_ value: String) { separate(); writeQuoted(value) }
    mutating func bool(_ value: Bool) { separate(); append(value ? "true" : "false") }
    mutating func null() { separate(); append("null") }
    mutating func int(_ value: Int64) {
        separate()
        if value < 0 { append(UInt8(ascii: "-")) }
        appendDigits(value.magnitude)
    }

    mutating func uint(_ value: UInt64) { separate(); appendDigits(value) }

    /// A double with a radix point or exponent; NaN and infinities (not JSON) as null.
    mutating func double(_ value: Double) {
        guard value.isFinite else { null(); return }
        separate()
        var text = value.description
        if !text.utf8.contains(where: { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }) {
            text += ".0"
        }
        text.withUTF8 { append(UnsafeRawBufferPointer($0)) }
    }

    /// A key from UTF-8 bytes of an encoded request; false, with nothing written, when they are
    /// not valid UTF-8 (which a decoder into the model would refuse as well).
    mutating func key(utf8 raw: UnsafeRawBufferPointer) -> Bool {
        let mark = (count, members, afterKey)
        separate()
        guard writeQuoted(raw) else { (count, members, afterKey) = mark; return false }
        append(UInt8(ascii: ":"))
        afterKey = true
        return true
    }

    /// A string from UTF-8 bytes of an encoded request; false, with nothing written, when invalid.
    mutating func string(utf8 raw: UnsafeRawBufferPointer) -> Bool {
        let mark = (count, members, afterKey)
        separate()
        guard writeQuoted(raw) else { (count, members, afterKey) = mark; return false }
        return true
    }

    /// `"<whole>.<fraction, six digits>"` of `value / 1_000_000`, without building strings.
    mutating func decimalMillionths(_ value: UInt64) {
        separate()
        append(UInt8(ascii: "\""))
        appendDigits(value / 1_000_000)
        let out = room(8)
        out[0] = UInt8(ascii: ".")
        var fraction = value % 1_000_000
        for position in stride(from: 6, through: 1, by: -1) {
            out[position] = 0x30 + UInt8(fraction % 10)
            fraction /= 10
        }
        out[7] = UInt8(ascii: "\"")
        count += 8
    }

    /// Decimal digits of `value`, written backwards into room for the longest.
    private mutating func appendDigits(_ value: UInt64) {
        var length = 1
        var probe = value
        while probe >= 10 { probe /= 10; length += 1 }
        let out = room(length)
        var rest = value
        for position in stride(from: length - 1, through: 0, by: -1) {
            out[position] = 0x30 + UInt8(rest % 10)
            rest /= 10
        }
        count += length
    }

    mutating func hex(_ raw: UnsafeRawBufferPointer) {
        separate()
        let out = room(raw.count * 2 + 2)
        out[0] = UInt8(ascii: "\"")
        for index in 0..<raw.count {
            let byte = raw[index]
            out[1 + 2 * index] = Self.hexDigit(byte >> 4)
            out[2 + 2 * index] = Self.hexDigit(byte & 0x0F)
        }
        out[raw.count * 2 + 1] = UInt8(ascii: "\"")
        count += raw.count * 2 + 2
    }

    mutating func hex(_ data: Data) {
        data.withUnsafeBytes { hex($0) }
    }

    /// Text already in JSON form (a nested document written elsewhere).
    mutating func raw(_ json: some ContiguousBytes) { separate(); json.withUnsafeBytes { append($0) } }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 { nibble < 10 ? 0x30 + nibble : 0x57 + nibble }

    // MARK: Escaping

    /// Bytes that cannot be copied into a JSON string as they are: controls, `"` and `\`, plus
    /// `<`, `>`, `&` and the lead byte of U+2028/U+2029, which Go's encoder escapes too (so
    /// documents are byte-compatible and safe to embed in HTML). A bit per byte value.
    @inline(__always)
    private static func needsEscape(_ byte: UInt8) -> Bool {
        let word: UInt64
        switch byte >> 6 {
        case 0: word = 0x5000_0044_FFFF_FFFF  // 0x00–0x1F, " (0x22), & (0x26), < (0x3C), > (0x3E)
        case 1: word = 0x0000_0000_1000_0000  // \ (0x5C)
        case 3: word = 0x0000_0004_0000_0000  // 0xE2
        default: word = 0
        }
        return word >> UInt64(byte & 63) & 1 != 0
    }

    /// Whether any of the eight bytes of `word` may need escaping or is not ASCII: a byte below
    /// 0x20 or at or above 0x80, or one of `"`, `\`, `<`, `>`, `&`. Exact for the bytes that
    /// matter, so a clean word is copied without looking at its bytes one by one.
    @inline(__always)
    private static func mayNeedEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        let below = (word &- ones &* 0x20) & ~word & highs
        let special = hasZero(word ^ (ones &* 0x22)) | hasZero(word ^ (ones &* 0x5C)) | hasZero(word ^ (ones &* 0x3C))
            | hasZero(word ^ (ones &* 0x3E)) | hasZero(word ^ (ones &* 0x26))
        return (below | special | (word & highs)) != 0
    }

    private mutating func writeQuoted(_ text: String) {
        var text = text
        // Strings from the model are valid UTF-8.
        _ = text.withUTF8 { writeQuoted(UnsafeRawBufferPointer($0)) }
    }

    /// Writes `raw` as a JSON string; false, with the string partly written, when it is not valid
    /// UTF-8 (the callers roll back). The bytes go in words of eight: a clean word is copied as it
    /// is, the others byte by byte. A string's last partial word is checked as its last eight bytes:
    /// when they are clean, the ones already written went out unchanged and are rewritten with
    /// the same bytes. Strings under eight bytes go byte by byte. Only strings with non-ASCII bytes
    /// are validated.
    private mutating func writeQuoted(_ raw: UnsafeRawBufferPointer) -> Bool {
        let length = raw.count
        // At most six bytes per input byte (\u00XX), and the quotes.
        let out = room(length &* 6 &+ 2)
        out[0] = UInt8(ascii: "\"")
        var written = 1
        var index = 0
        var nonASCII = false
        while index < length {
            let rest = length &- index
            if length >= 8 {
                let at = rest >= 8 ? index : length &- 8
                let word = raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                if !Self.mayNeedEscape(UInt64(littleEndian: word)) {
                    let step = min(rest, 8)
                    UnsafeMutableRawPointer(out + (written &+ step &- 8)).storeBytes(of: word, as: UInt64.self)
                    written &+= step
                    index &+= step
                    continue
                }
            }
            let end = index &+ min(rest, 8)
            while index < end {
                let byte = raw[index]
                index &+= 1
                if byte >= 0x80 { nonASCII = true }
                guard Self.needsEscape(byte) else { out[written] = byte; written &+= 1; continue }
                written &+= Self.escape(byte, at: index, in: raw, into: out + written, skipped: &index)
            }
        }
        out[written] = UInt8(ascii: "\"")
        count &+= written &+ 1
        return !nonASCII || String(validating: raw, as: UTF8.self) != nil
    }

    /// Writes the escape of `byte` (just before `next` in `raw`); returns the bytes written.
    private static func escape(_ byte: UInt8, at next: Int, in raw: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<UInt8>,
                               skipped index: inout Int) -> Int {
        func pair(_ second: UInt8) -> Int {
            out[0] = UInt8(ascii: "\\")
            out[1] = second
            return 2
        }
        func unicode(_ code: UInt16) -> Int {
            out[0] = UInt8(ascii: "\\")
            out[1] = UInt8(ascii: "u")
            for position in 0..<4 { out[2 + position] = hexDigit(UInt8((code >> UInt16(12 - 4 * position)) & 0xF)) }
            return 6
        }
        switch byte {
        case UInt8(ascii: "\""): return pair(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): return pair(UInt8(ascii: "\\"))
        case UInt8(ascii: "\n"): return pair(UInt8(ascii: "n"))
        case UInt8(ascii: "\r"): return pair(UInt8(ascii: "r"))
        case UInt8(ascii: "\t"): return pair(UInt8(ascii: "t"))
        case 0xE2:
            // U+2028 and U+2029 are E2 80 A8 / E2 80 A9; other characters led by E2 pass.
            if next + 1 < raw.count, raw[next] == 0x80, raw[next + 1] == 0xA8 || raw[next + 1] == 0xA9 {
                index += 2
                return unicode(raw[next + 1] == 0xA8 ? 0x2028 : 0x2029)
            }
            out[0] = byte
            return 1
        default: return unicode(UInt16(byte))
        }
    }
}
