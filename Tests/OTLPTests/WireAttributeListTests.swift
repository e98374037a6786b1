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
}
