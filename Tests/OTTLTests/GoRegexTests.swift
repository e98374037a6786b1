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
        ("\\s", "\u{0B}", false),           // the vertical tab is not space in RE2 (it is in PCRE2)
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
        // Text without operators, tested on the bytes without running the expression.
        ("^internal-", "internal-queue", true),
        ("^internal-", "my-internal-queue", false),
        ("-queue$", "internal-queue", true),
        ("-queue$", "internal-queue\n", false),
        ("queue", "a queue b", true),
        ("queue", "qu", false),
        ("", "anything", true),
        ("^$", "", true),
        ("^$", "\n", false),
        ("^health", "héalth", false),
        // Text shorter than any match is not searched: the shortest match is counted in characters.
        ("[0-9]{3}", "12", false),
        ("^é{2}$", "éé", true),
        ("(ab)+c", "abab", false),
    ]

    @Test(arguments: 0..<table.count)
    func matchesAsGoDoes(_ row: Int) throws {
        let (pattern, text, expected) = Self.table[row]
        let regex = try GoRegex.compile(pattern)
        #expect(regex.matches(text) == expected, "\(pattern) on \(text.debugDescription)")
    }

    /// A pattern of plain text answers as the same pattern run by PCRE2 (an empty group in front
    /// keeps it off the text path), on valid text and on bytes that are not UTF-8.
    @Test func plainTextPatternsAnswerAsTheExpression() throws {
        let subjects: [[UInt8]] = [
            Array("internal-queue".utf8), Array("x internal-".utf8), Array("internal".utf8), [],
            Array("internal-".utf8) + [0xFF, 0xFE], [0xC3] + Array("internal-".utf8), Array("/health\n".utf8),
        ]
        for pattern in ["^internal-", "internal-", "-$", "^/health$", "^", "$", "", "e"] {
            #expect(GoRegex.Literal(pattern) != nil, "\(pattern)")
            let text = try GoRegex(pattern), expression = try GoRegex("(?:)" + pattern)
            for subject in subjects {
                subject.withUnsafeBytes { bytes in
                    #expect(text.matches(received: bytes) == expression.matches(received: bytes), "\(pattern) on \(subject)")
                }
            }
        }
        for pattern in ["^a.b", "a+", "(?i)abc", "^é", "a\\.b", "[a]", "a|b", "a{2}", "^a$b"] {
            #expect(GoRegex.Literal(pattern) == nil, "\(pattern)")
        }
    }

    @Test func namedGroupsKeepTheirNames() throws {
        let regex = try GoRegex.compile("(?P<year>\\d{4})-(?P<month>\\d{2})")
        let text = "released 2026-12"
        #expect(regex.groupNames.map(\.name) == ["year", "month"])
        #expect(regex.groupNames.map(\.number) == [1, 2])
        let groups = try #require(regex.firstMatch(text))
        let year = try #require(groups[1])
        #expect(Array(text.utf8)[year] == Array("2026".utf8)[...])
        #expect(try #require(groups[0]) == 9..<16, "offsets count UTF-8 bytes")
    }

    /// Go's `ReplaceAllString`, with the answers of Go's own documentation and implementation:
    /// `$name` takes the longest run of name characters, an empty match right after a match is not
    /// replaced, and the search moves on by whole characters.
    static let replacements: [(pattern: String, text: String, template: String, result: String)] = [
        ("a(x*)b", "-ab-axxb-", "T", "-T-T-"),
        ("a(x*)b", "-ab-axxb-", "$1", "--xx-"),
        ("a(x*)b", "-ab-axxb-", "$1W", "---"),      // the group named "1W", which does not exist
        ("a(x*)b", "-ab-axxb-", "${1}W", "-W-xxW-"),
        ("a(?P<x>x*)b", "-axb-", "${x}|$x|$$|$", "-x|x|$|$-"),
        ("a*", "baaac", "X", "XbXcX"),
        ("x*", "ab", "-", "-a-b-"),
        ("x*", "é", "-", "-é-"),                   // past an empty match by a whole character
        ("/[0-9]+", "/api/v1/orders/42/items/7", "/{id}", "/api/v1/orders/{id}/items/{id}"),
        ("^(?P<first>\\w+) (?P<last>\\w+)$", "Ada Lovelace", "$last, $first", "Lovelace, Ada"),
        ("z", "abc", "Q", "abc"),
        ("", "", "E", "E"),
        ("(?U)a+", "aaa", "x", "xxx"),             // ungreedy: a+ takes one a
        ("\\bx\\b", "x éx x", "y", "y éy y"),     // \b is an ASCII word boundary in RE2
        ("[0-9]{3}", "12", "N", "12"),            // shorter than any match
        ("é{2}", "xéé", "e", "xe"),              // a match that ends the text, shortest in characters
        ("b$", "ab", "c", "ac"),
    ]

    @Test(arguments: 0..<replacements.count)
    func replacesAsGoDoes(_ row: Int) throws {
        let (pattern, text, template, result) = Self.replacements[row]
        let regex = try GoRegex.compile(pattern)
        #expect(regex.replaceAll(in: text, with: template) == result, "\(pattern) on \(text) with \(template)")
        // The bytes entry point (encoded attributes) appends the same text after what `out` held,
        // and says when nothing matched.
        var out: [UInt8] = [0x2A]
        let matched = Array(text.utf8).withUnsafeBufferPointer { regex.replaceAll(in: $0, with: regex.template(template), into: &out) }
        #expect(matched == (regex.firstMatch(text) != nil))
        #expect(out == [0x2A] + (matched ? Array(result.utf8) : []))
    }

    @Test(arguments: ["(a)\\1", "(?=a)b", "(?!a)b", "(?<=a)b", "(?<!a)b", "(?>ab)", "a*+", "(?P=name)", "[a", "a\\", "(", "[z-a]"])
    func whatGoRefusesIsRefused(_ pattern: String) {
        #expect(throws: GoRegex.SyntaxError.self) { try GoRegex.compile(pattern) }
    }

    @Test func refusalsSayWhy() {
        #expect { try GoRegex.compile("(?=a)") } throws: { "\($0)".contains("lookaround is not RE2 syntax") }
    }
}
