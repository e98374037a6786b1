import Foundation
import Testing
@testable import OTTL

/// Patterns as Go users write them, with the answers of Go's `regexp.MatchString` (RE2 syntax, as
/// RE2's syntax page documents it): where ICU alone would answer otherwise, the row says why.
@Suite struct GoRegexTests {
    static let table: [(pattern: String, text: String, matches: Bool)] = [
        ("^abc$", "abc", true),
        ("^abc$", "abc\n", false),            // RE2's $ is the end of the text; ICU's also before a final newline
        ("^.*$", "line\n", false),
        ("(?m)^b$", "a\nb\nc", true),
        ("(?m)^b$", "a\r\nb\r\nc", false),    // the line holds "b\r"
        ("a.c", "a\rc", true),                // only \n ends a line in RE2
        ("a.c", "a\u{2028}c", true),
        ("a.c", "a\nc", false),
        ("(?s)a.c", "a\nc", true),
        ("^\\d+$", "123", true),
        ("^\\d+$", "\u{0661}\u{0662}", false), // \d is ASCII in RE2
        ("^\\w+$", "hello_1", true),
        ("^\\w+$", "héllo", false),
        ("\\s", "\u{00A0}", false),
        ("\\s", "a b", true),
        ("^[\\d]$", "5", true),
        ("^[\\D]$", "a", true),
        ("^[\\D]$", "5", false),
        ("^[\\w.-]+$", "svc-a.b", true),
        ("(?P<year>\\d{4})-(?P<month>\\d{2})", "on 2026-12", true),
        ("(?<year>\\d{4})", "2026", true),
        ("^[[:alpha:]]+$", "abc", true),
        ("^[[:digit:]]+$", "12a", false),
        ("^[a&&b]$", "&", true),              // & is a literal in an RE2 class, an operator in ICU's
        ("^[[]$", "[", true),
        ("^[]a]$", "]", true),
        ("^[^]a]$", "b", true),
        ("^[^]a]$", "]", false),
        ("(?i)HELLO", "say hello", true),
        ("\\Qa.b$\\E", "a.b$", true),
        ("\\Qa.b\\E", "axb", false),
        ("a\\$", "a$", true),
        ("x*", "", true),
        ("^/api/v[0-9]+/orders/\\d+$", "/api/v1/orders/42", true),
        ("GET|POST", "method POST", true),
        ("^\\p{Greek}+$", "αβγ", true),
    ]

    @Test(arguments: 0..<table.count)
    func matchesAsGoDoes(_ row: Int) throws {
        let (pattern, text, expected) = Self.table[row]
        let regex = try GoRegex.compile(pattern)
        #expect(GoRegex.matches(regex, text) == expected, "\(pattern) on \(text.debugDescription)")
    }

    @Test func namedGroupsKeepTheirNames() throws {
        let regex = try GoRegex.compile("(?P<year>\\d{4})-(?P<month>\\d{2})")
        let text = "released 2026-12"
        let match = try #require(regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)))
        let year = try #require(Range(match.range(withName: "year"), in: text))
        #expect(text[year] == "2026")
    }

    @Test(arguments: ["(a)\\1", "(?=a)b", "(?!a)b", "(?<=a)b", "(?<!a)b", "(?>ab)", "a*+", "(?P=name)", "(?U)a+", "[a", "a\\", "(", "[z-a]"])
    func whatGoRefusesIsRefused(_ pattern: String) {
        #expect(throws: GoRegex.SyntaxError.self) { try GoRegex.compile(pattern) }
    }

    @Test func refusalsSayWhy() {
        #expect { try GoRegex.compile("(?=a)") } throws: { "\($0)".contains("lookaround is not RE2 syntax") }
    }
}
