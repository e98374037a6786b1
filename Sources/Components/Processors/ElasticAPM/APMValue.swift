import OTLP

/// An attribute value as the `elasticapm` rules read it, after Go's pdata accessors: a string,
/// integer or boolean of another type reads as "", 0 or false.
protocol APMValue {
    var stringOrEmpty: String { get }
    var intOrZero: Int64 { get }
    var boolOrFalse: Bool { get }
}

extension AnyValue: APMValue {
    var stringOrEmpty: String {
        if case .stringValue(let value)? = value { return value }
        return ""
    }

    var intOrZero: Int64 {
        if case .intValue(let value)? = value { return value }
        return 0
    }

    var boolOrFalse: Bool {
        if case .boolValue(let value)? = value { return value }
        return false
    }
}

/// An encoded AnyValue read where it lies: its last oneof member, as decoders take it.
struct WireAnyValue: APMValue {
    let buffer: UnsafeRawBufferPointer
    /// The whole encoded value.
    let range: Range<Int>
    private(set) var member = 0
    private(set) var body = 0..<0
    private(set) var number: UInt64 = 0

    /// The value whose body (without tag and length) is `range` of `buffer`.
    init(_ buffer: UnsafeRawBufferPointer, _ range: Range<Int>) {
        self.buffer = buffer
        self.range = range
        // The usual value, a string alone with a one-byte length, read directly.
        if let text = WireFields.stringAlone(buffer, range) {
            member = 1
            body = text
            return
        }
        var reader = WireReader(buffer, range: range)
        while !reader.isAtEnd {
            guard let (field, wireType) = try? reader.tag() else { return }
            switch (field, wireType) {
            case (1, .lengthDelimited), (5, .lengthDelimited), (6, .lengthDelimited), (7, .lengthDelimited):
                guard let value = try? reader.lengthDelimited() else { return }
                member = Int(field); body = value
            case (2, .varint), (3, .varint):
                guard let value = try? reader.varint() else { return }
                member = Int(field); number = value
            case (4, .fixed64):
                guard let value = try? reader.fixed64() else { return }
                member = 4; number = value
            default:
                guard (try? reader.skip(wireType)) != nil else { return }
            }
        }
    }

    var stringOrEmpty: String { member == 1 ? String(decoding: UnsafeRawBufferPointer(rebasing: buffer[body]), as: UTF8.self) : "" }
    var intOrZero: Int64 { member == 3 ? Int64(bitPattern: number) : 0 }
    var boolOrFalse: Bool { member == 2 && number != 0 }

    /// Whether the value is the string `text`, compared as bytes.
    func isString(_ text: [UInt8]) -> Bool {
        member == 1 && text.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: buffer[body]).sameBytes(as: $0) }
    }
}
