import Foundation
import Testing
@testable import OTLP

@Suite struct WireFieldsTests {
    /// A length-delimited field with a one-byte tag.
    static func field(_ number: UInt8, _ body: [UInt8]) -> [UInt8] {
        var out = WireWriter()
        out.lengthDelimited(field: UInt64(number), body)
        return out.bytes
    }

    static func string(_ text: String) -> [UInt8] { field(1, Array(text.utf8)) }

    /// Span attribute entries (field 9) of the usual shape and of others: keys of one length with
    /// other bytes, the value before the key, a two-byte length, a key twice, no key, and an
    /// unknown field between entries.
    static let entries: [[UInt8]] = [
        field(9, field(1, Array("http.route".utf8)) + field(2, string("x"))),
        field(9, field(1, Array("http.rout3".utf8)) + field(2, string("y"))),
        [0xA0, 0x01, 0x01],  // field 20, a varint
        field(9, field(2, string("v")) + field(1, Array("late".utf8))),
        field(9, field(1, Array("after".utf8)) + field(2, string("z"))),
        field(9, field(1, Array("big".utf8)) + field(2, string(String(repeating: "b", count: 200)))),
        field(9, field(1, Array("dup".utf8)) + field(2, string("first"))),
        field(9, field(1, Array("dup".utf8)) + field(2, string("second"))),
        field(9, field(2, string("no key"))),
        field(9, field(1, Array("no value".utf8))),
    ]

    /// Lookups find what the decoded span's first entry of each key holds, with the entries in
    /// either order (the in-place steps and the reader each start the walk).
    @Test(arguments: [false, true])
    func anAttributeIsTheFirstEntryOfItsKeyWhateverTheShapes(reversed: Bool) throws {
        let body = Self.field(5, Array("name".utf8)) + (reversed ? Self.entries.reversed() : Self.entries).flatMap { $0 }
        let decoded = try Span(serializedBytes: body)
        try body.withUnsafeBytes { buffer in
            let span = try WireFields(buffer, 0..<buffer.count, singularMessages: 1 << 15, firstOf: 9)
            for key in ["http.route", "http.rout3", "http.routX", "late", "after", "big", "dup", "", "no value", "missing"] {
                let expected = decoded.attributes.first { $0.key == key }?.value
                let found = try span.attribute(9, key).map { try AnyValue(serializedBytes: Array(buffer[$0])) }
                #expect(found == expected, "\(key)")
            }
        }
    }
}
