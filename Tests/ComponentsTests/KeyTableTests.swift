import Testing
@testable import Components

/// `KeyTable` finds keys by their bytes: around the lengths where it compares words instead of
/// memory (under 8, 8 to 16, over 16), keys that share their first and last eight bytes (a
/// 17-byte one differing only in the byte neither word holds), and equal keys in the order given.
@Suite struct KeyTableTests {
    static let keys = ["a", "abc", "abcdefgh", "abcdefgX", "0123456789abcdef", "0123456789abcdeX",
                       "0123456789abcdefg", "0123456789Xbcdefg", "abc", "span.destination.service.resource"]
    static let table = KeyTable(keys.enumerated().map { (key: $1, value: $0) })

    static func matches(_ key: String) -> [Int] {
        var out: [Int] = []
        Array(key.utf8).withUnsafeBytes { bytes in table.forEachMatch(bytes) { out.append($0); return true } }
        return out
    }

    @Test func eachKeyFindsItselfOnly() {
        for (index, key) in Self.keys.enumerated() where key != "abc" {
            #expect(Self.matches(key) == [index], "\(key)")
        }
        #expect(Self.matches("abc") == [1, 8], "equal keys in the order given")
        #expect(Array("abc".utf8).withUnsafeBytes { Self.table.value($0) } == 1)
    }

    @Test func keysNotInTheTableFindNothing() {
        for key in ["", "b", "abd", "abcdefgY", "Xbcdefgh", "0123456789abcdeY", "0123456789aXcdefg", "01234567X9abcdefg", "0123456789abcdefgh",
                    "span.destination.service.resourcE", String(repeating: "x", count: 200)] {
            #expect(Self.matches(key).isEmpty, "\(key)")
        }
    }
}
