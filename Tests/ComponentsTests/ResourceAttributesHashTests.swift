import Foundation
import OTLP
import Testing
@testable import Components

@Suite struct ResourceAttributesHashTests {
    @Test func xxHash64MatchesReferenceValues() {
        // Values of the reference implementation (python-xxhash / cespare/xxhash), seed 0.
        #expect(XXHash64.hash([]) == 0xEF46_DB37_51D8_E999)
        #expect(XXHash64.hash(Array("abc".utf8)) == 0x44BC_2CF5_AD77_0999)
        #expect(XXHash64.hash([UInt8](repeating: UInt8(ascii: "a"), count: 40)) == 0x569E_A684_3111_EF03)
    }

    @Test func keyOfOneStringAttribute() {
        var kv = KeyValue()
        kv.key = "service.name"
        kv.value.stringValue = "checkout"
        // xxh64 of 0xF4 "service.name" 0xF7 "checkout", then of the same plus 0xF3, little-endian.
        let expected = "831d0817d731c2054ac194e9ddcf7e5c"
        #expect(hexString(ResourceAttributesHash.key([kv])) == expected)
    }

    @Test func emptyAttributesAndOrderIndependence() {
        #expect(ResourceAttributesHash.key([]) == [UInt8](repeating: 0, count: 16))
        var a = KeyValue(); a.key = "a"; a.value.intValue = 1
        var b = KeyValue(); b.key = "b"; b.value.boolValue = true
        #expect(ResourceAttributesHash.key([a, b]) == ResourceAttributesHash.key([b, a]))
    }
}
