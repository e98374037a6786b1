import CPCRE2

/// A regular expression as the Go collector's users write them (Go's `regexp`, RE2 syntax), run
/// on PCRE2 with its JIT. Every component that takes a pattern from a config compiles it here, so
/// one pattern means the same everywhere; `GoRegexSyntax.swift` says how RE2's syntax is mapped.
///
/// PCRE2 replaced NSRegularExpression here: on Linux the latter converts every subject to UTF-16
/// through NSString, and one `IsMatch` was 13% of the samples of a filter process with three
/// conditions (docs/BENCHMARKS.md, "Processors on the encoded batch").
///
/// Offsets are UTF-8 byte offsets into the subject; in UTF mode PCRE2 matches only at character
/// boundaries, so every range cuts the text between characters.
// Sendable: the compiled pattern is never changed after `init`, and PCRE2 documents a compiled
// pattern as safe to match from several threads at once, each match with its own match data
// (made per call here).
public final class GoRegex: @unchecked Sendable {
    public struct SyntaxError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The pattern as written in the config.
    public let pattern: String
    /// The named groups and their numbers, in the order they open.
    public let groupNames: [(name: String, number: Int)]
    private let code: OpaquePointer

    public init(_ pattern: String) throws(SyntaxError) {
        self.pattern = pattern
        let translated = try Self.translate(pattern)
        var error: Int32 = 0
        var offset = 0
        let compiled: OpaquePointer? = Array(translated.utf8).withUnsafeBufferPointer { utf8 in
            otelcol_pcre2_compile(utf8.baseAddress, utf8.count, UInt32(PCRE2_UTF), &error, &offset)
        }
        guard let compiled else {
            var message = [UInt8](repeating: 0, count: 256)
            let length = otelcol_pcre2_error_message(error, &message, message.count)
            let reason = length > 0 ? String(decoding: message.prefix(Int(length)), as: UTF8.self) : "error \(error)"
            throw SyntaxError(description: "invalid regular expression \"\(pattern)\": \(reason)")
        }
        code = compiled
        groupNames = Self.names(compiled)
    }

    deinit { otelcol_pcre2_code_free(code) }

    /// The compiled pattern (the name the call sites read best with).
    public static func compile(_ pattern: String) throws(SyntaxError) -> GoRegex { try GoRegex(pattern) }

    /// Whether the expression matches anywhere in `text` (Go's `MatchString`).
    public func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches($0) }
    }

    /// Whether the expression matches anywhere in the UTF-8 `bytes`, which must be valid UTF-8.
    public func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        // Only whether: no group offsets are read out.
        withMatchData { data in
            guard let data else { return false }
            if let base = bytes.baseAddress { return otelcol_pcre2_match(code, base, bytes.count, 0, data) > 0 }
            // An empty subject may have no address; PCRE2 wants one all the same.
            var empty: UInt8 = 0
            return otelcol_pcre2_match(code, &empty, 0, 0, data) > 0
        }
    }

    /// Whether the expression matches bytes that may not be valid UTF-8: ASCII as it lies, other
    /// text as the model reads it (invalid sequences replaced), since PCRE2 in UTF mode needs
    /// valid UTF-8.
    public func matches(received bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return matches(String(decoding: bytes, as: UTF8.self)) }
        return matches(bytes.assumingMemoryBound(to: UInt8.self))
    }

    /// The byte ranges of the whole first match (index 0) and of each group (nil where a group
    /// took no part), or nil without a match.
    public func firstMatch(_ text: String) -> [Range<Int>?]? {
        var text = text
        return text.withUTF8 { utf8 in withMatchData { data in first(utf8, from: 0, data) } }
    }

    /// The text with every match replaced by `template` expanded, as Go's `ReplaceAllString`:
    /// `$1`, `${1}`, `$name` and `${name}` insert a group (empty when it did not take part or does
    /// not exist), `$$` a dollar; an empty match right after a match is not replaced.
    public func replaceAll(in text: String, with template: String) -> String {
        var subject = text
        return subject.withUTF8 { utf8 in
            withMatchData { data in
                var out: [UInt8] = []
                var lastMatchEnd = 0
                var searchFrom = 0
                var replaced = false
                while searchFrom <= utf8.count, let groups = first(utf8, from: searchFrom, data), let whole = groups[0] {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[lastMatchEnd..<whole.lowerBound]))
                    if whole.upperBound > lastMatchEnd || whole.lowerBound == 0 {
                        expand(template, groups, utf8, into: &out)
                        replaced = true
                    }
                    lastMatchEnd = whole.upperBound
                    // Past this match, and at least one character further.
                    let width = searchFrom < utf8.count ? Self.characterWidth(utf8[searchFrom]) : 1
                    searchFrom = max(searchFrom + width, whole.upperBound)
                }
                guard replaced || lastMatchEnd > 0 else { return text }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[lastMatchEnd...]))
                return String(decoding: out, as: UTF8.self)
            }
        }
    }

    // MARK: Matching

    /// Calls `body` with fresh match data; nil only when memory is exhausted, and then nothing
    /// matches.
    private func withMatchData<T>(_ body: (OpaquePointer?) -> T) -> T {
        let data = otelcol_pcre2_match_data(code)
        defer { if let data { otelcol_pcre2_match_data_free(data) } }
        return body(data)
    }

    private func first(_ subject: UnsafeBufferPointer<UInt8>, from start: Int, _ data: OpaquePointer?) -> [Range<Int>?]? {
        guard let data else { return nil }
        let pairs: Int32
        if let base = subject.baseAddress {
            pairs = otelcol_pcre2_match(code, base, subject.count, start, data)
        } else {
            // An empty subject may have no address; PCRE2 wants one all the same.
            var empty: UInt8 = 0
            pairs = otelcol_pcre2_match(code, &empty, 0, start, data)
        }
        guard pairs > 0, let vector = otelcol_pcre2_ovector(data) else { return nil }
        return (0..<Int(pairs)).map { group in
            let low = vector[2 * group], high = vector[2 * group + 1]
            // An unset group has both offsets PCRE2_UNSET (all bits set: -1 as Swift imports size_t).
            return low < 0 || high < low ? nil : low..<high
        }
    }

    /// Appends `template` with its group references expanded.
    private func expand(_ template: String, _ groups: [Range<Int>?], _ subject: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        let chars = Array(template.utf8)
        var i = 0
        func group(_ reference: [UInt8]) -> Range<Int>? {
            let name = String(decoding: reference, as: UTF8.self)
            let number = Int(name).map { $0 } ?? groupNames.first { $0.name == name }?.number
            guard let number, number < groups.count else { return nil }
            return groups[number]
        }
        while i < chars.count {
            guard chars[i] == UInt8(ascii: "$"), i + 1 < chars.count else {
                out.append(chars[i])
                i += 1
                continue
            }
            if chars[i + 1] == UInt8(ascii: "$") {
                out.append(UInt8(ascii: "$"))
                i += 2
                continue
            }
            // A name is the longest run of letters, digits and underscores, or `{…}` around one.
            let braced = chars[i + 1] == UInt8(ascii: "{")
            var j = braced ? i + 2 : i + 1
            while j < chars.count, Self.isNameByte(chars[j]) { j += 1 }
            let name = Array(chars[(braced ? i + 2 : i + 1)..<j])
            if name.isEmpty || (braced && (j >= chars.count || chars[j] != UInt8(ascii: "}"))) {
                // Not a reference: the dollar is text.
                out.append(UInt8(ascii: "$"))
                i += 1
                continue
            }
            if let range = group(name) { out.append(contentsOf: subject[range]) }
            i = braced ? j + 1 : j
        }
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }

    /// The length of the UTF-8 sequence `lead` starts.
    private static func characterWidth(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: 4
        case 0xE0...: 3
        case 0xC0...: 2
        default: 1
        }
    }

    /// The named groups from PCRE2's name table: entries of a two-byte group number followed by
    /// the name and a zero byte.
    private static func names(_ code: OpaquePointer) -> [(name: String, number: Int)] {
        var count: UInt32 = 0, entrySize: UInt32 = 0
        var table: UnsafePointer<UInt8>?
        guard otelcol_pcre2_info(code, UInt32(PCRE2_INFO_NAMECOUNT), &count) == 0, count > 0,
              otelcol_pcre2_info(code, UInt32(PCRE2_INFO_NAMEENTRYSIZE), &entrySize) == 0,
              otelcol_pcre2_info(code, UInt32(PCRE2_INFO_NAMETABLE), &table) == 0, let table else { return [] }
        let names = (0..<Int(count)).map { index -> (name: String, number: Int) in
            let entry = table + index * Int(entrySize)
            let number = Int(entry[0]) << 8 | Int(entry[1])
            let name = UnsafeBufferPointer(start: entry + 2, count: Int(entrySize) - 2).prefix { $0 != 0 }
            return (String(decoding: name, as: UTF8.self), number)
        }
        return names.sorted { $0.number < $1.number }
    }
}
