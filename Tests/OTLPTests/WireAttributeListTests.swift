import Foundation
import SwiftProtobuf
import Testing
@testable import OTLP

@Suite struct WireAttributeListTests {
    static let values: [AnyValue] = [
        .with { $0.stringValue = "" }, .with { $0.stringValue = "héllo" }, .with { $0.stringValue = String(repeating: "x", count: 300) },
        .with { $0.boolValue = false }, .with { $0.boolValue = true },
        .with { $0.intValue = 0 }, .with { $0.intValue = -1 }, .with { $0.intValue = .max }, .with { $0.intValue = 300 },
        .with { $0.doubleValue = 0 }, .with { $0.doubleValue = -2.5 }, .with { $0.doubleValue = .nan },
        .with { $0.bytesValue = Data([1, 2]) }, AnyValue(),
    ]

    /// The scalars written by hand are the bytes swift-protobuf writes.
    @Test(arguments: values)
    func encodedBodiesAreSwiftProtobufsBytes(_ value: AnyValue) throws {
        #expect(value.encodedBody == (try value.serializedBytes() as [UInt8]))
    }

    @Test func theStringMemberIsTheLastMemberOfTheOneof() throws {
        func member(_ bytes: [UInt8]) -> String? {
            bytes.withUnsafeBytes { raw in WireAttributeList.stringMember(raw).map { String(decoding: $0, as: UTF8.self) } }
        }
        #expect(member(try AnyValue.with { $0.stringValue = "a" }.serializedBytes()) == "a")
        #expect(member(try AnyValue.with { $0.intValue = 3 }.serializedBytes()) == nil)
        // A string then an int: the int counts (as swift-protobuf decodes it).
        let stringThenInt: [UInt8] = [0x0A, 0x01, 0x61, 0x18, 0x03]
        #expect(member(stringThenInt) == nil)
        #expect(try AnyValue(serializedBytes: stringThenInt).intValue == 3)
        // An int then a string, with an unknown field after it: the string counts.
        let intThenString: [UInt8] = [0x18, 0x03, 0x0A, 0x01, 0x62, 0x60, 0x01]
        #expect(member(intThenString) == "b")
        #expect(try AnyValue(serializedBytes: intThenString).stringValue == "b")
        // Truncated, and field 1 with the wrong wire type: not a string.
        #expect(member([0x0A, 0x05, 0x61]) == nil)
        #expect(member([0x08, 0x01]) == nil)
    }

    /// Unchanged entries are copied in runs; a run must stop at another field between entries and
    /// at a length written in more bytes than needed, and the result must decode as the model
    /// changed the same way.
    @Test func aChangedListIsWrittenAsTheModelWouldBe() throws {
        func entry(_ key: String, _ value: String, paddedLength: Bool = false) throws -> [UInt8] {
            let body: [UInt8] = try KeyValue.with { $0.key = key; $0.value.stringValue = value }.serializedBytes()
            // Field 9; the length as a two-byte varint when padded.
            return [0x4A] + (paddedLength ? [UInt8(body.count) | 0x80, 0x00] : [UInt8(body.count)]) + body
        }
        var span: [UInt8] = []
        span += [0x2A, 0x01, 0x6E]                                  // name "n"
        span += try entry("a", "1") + entry("b", "2")              // two entries next to each other
        span += [0x30, 0x02]                                        // kind between attributes
        span += try entry("c", "3") + entry("d", "4", paddedLength: true) + entry("e", "5")
        span += [0x80, 0x01, 0x05]                                  // field 16 as a varint: a two-byte tag, kept unknown

        var model = try Span(serializedBytes: span)
        #expect(model.attributes.map(\.key) == ["a", "b", "c", "d", "e"])
        let encoded: [UInt8] = try span.withUnsafeBytes { raw in
            var list = WireAttributeList(try WireFields(raw, 0..<raw.count), field: 9)
            list.set(keyUTF8: Array("c".utf8), encodedValue: AnyValue.encoded(string: "changed"))
            list.set(keyUTF8: Array("f".utf8), encodedValue: AnyValue.encoded(int: 6))
            let encoded = list.messageEncoding()
            #expect(list.messageSize() == encoded.count)
            return encoded
        }
        model.attributes[2].value.stringValue = "changed"
        model.attributes.append(.with { $0.key = "f"; $0.value.intValue = 6 })
        #expect(try Span(serializedBytes: encoded) == model)
        // Unchanged, the list writes the same span (the padded length made minimal).
        let unchanged: [UInt8] = try span.withUnsafeBytes { raw in
            let list = WireAttributeList(try WireFields(raw, 0..<raw.count), field: 9)
            let encoded = list.messageEncoding()
            #expect(list.messageSize() == encoded.count)
            return encoded
        }
        #expect(try Span(serializedBytes: unchanged) == (try Span(serializedBytes: span)))
        #expect(unchanged.count == span.count - 1)
    }

    /// A rewritten string's tag and length are written in front of it however many bytes the
    /// length takes, and a value rewritten twice reads the first rewrite.
    @Test(arguments: [0, 5, 127, 128, 200, 16_383, 16_384, 20_000])
    func rewrittenStringsOfEveryLengthSize(_ length: Int) throws {
        let span: [UInt8] = try Span.with {
            $0.name = "n"
            $0.attributes = [.with { $0.key = "k"; $0.value.stringValue = "old" }, .with { $0.key = "other"; $0.value.intValue = 1 }]
        }.serializedBytes()
        let encoded: [UInt8] = try span.withUnsafeBytes { raw in
            var list = WireAttributeList(try WireFields(raw, 0..<raw.count), field: 9)
            #expect(list.rewriteString(at: 0) { old, out in
                out.append(contentsOf: old.prefix(1))
                out.append(contentsOf: repeatElement(UInt8(ascii: "x"), count: max(0, length - 1)))
                return true
            } == true)
            var readBack = -1
            let replaced = list.replaceString(at: 0, length: length) { old, new in
                // The first rewrite, read back, then written again.
                readBack = old.count
                new.copyMemory(from: UnsafeRawBufferPointer(rebasing: old.prefix(length)))
            }
            #expect(replaced && readBack == max(1, length))
            #expect(list.rewriteString(at: 1) { _, _ in true } == nil, "an int is no string")
            return list.messageEncoding()
        }
        let decoded = try Span(serializedBytes: encoded)
        #expect(decoded.attributes.map(\.key) == ["k", "other"])
        #expect(decoded.attributes[0].value.stringValue == String((["o"] + Array(repeating: "x", count: max(0, length - 1))).joined().prefix(length)))
        #expect(decoded.attributes[1].value.intValue == 1)
    }
}
