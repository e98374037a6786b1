import CPCRE2
import OTLP

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
    /// Offset pairs a match sets at most: the whole match and each group.
    private let pairs: UInt32
    /// Whether PCRE2's JIT compiled the pattern, so that matches take its fast path.
    private let jitted: Bool
    /// The fewest bytes a match can span (PCRE2 works out a lower bound in characters, each at
    /// least a byte): shorter text, or what is left of it after a match, is not searched.
    private let minLength: Int
    /// For a pattern that is ASCII text without operators, maybe between `^` and `$`: what it
    /// matches, tested on the bytes without running the expression.
    private let literal: Literal?

    enum Literal: Equatable {
        case prefix([UInt8]), suffix([UInt8]), whole([UInt8]), anywhere([UInt8])

        /// `^text`, `text$`, `^text$` or `text` of ASCII characters that stand for themselves.
        init?(_ pattern: String) {
            var text = Array(pattern.utf8)
            let anchoredStart = text.first == UInt8(ascii: "^")
            if anchoredStart { text.removeFirst() }
            let anchoredEnd = text.last == UInt8(ascii: "$")
            if anchoredEnd { text.removeLast() }
            let operators = Set(#"\.+*?()|[]{}^$"#.utf8)
            guard text.allSatisfy({ $0 < 0x80 && $0 != 0 && !operators.contains($0) }) else { return nil }
            switch (anchoredStart, anchoredEnd) {
            case (true, true): self = .whole(text)
            case (true, false): self = .prefix(text)
            case (false, true): self = .suffix(text)
            case (false, false): self = .anywhere(text)
            }
        }

        func matches(_ bytes: UnsafeRawBufferPointer) -> Bool {
            switch self {
            case .prefix(let text):
                return bytes.count >= text.count && text.withUnsafeBytes { $0.sameBytes(as: UnsafeRawBufferPointer(rebasing: bytes.prefix(text.count))) }
            case .suffix(let text):
                return bytes.count >= text.count && text.withUnsafeBytes { $0.sameBytes(as: UnsafeRawBufferPointer(rebasing: bytes.suffix(text.count))) }
            case .whole(let text):
                return text.withUnsafeBytes { $0.sameBytes(as: bytes) }
            case .anywhere(let text):
                guard !text.isEmpty else { return true }
                guard bytes.count >= text.count else { return false }
                return text.withUnsafeBytes { needle in
                    let first = needle[0]
                    for at in 0...(bytes.count - needle.count) where bytes[at] == first {
                        if needle.sameBytes(as: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + needle.count)])) { return true }
                    }
                    return false
                }
            }
        }
    }

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
        var groups: UInt32 = 0
        _ = otelcol_pcre2_info(compiled, UInt32(PCRE2_INFO_CAPTURECOUNT), &groups)
        pairs = groups + 1
        var jitSize = 0
        jitted = otelcol_pcre2_info(compiled, UInt32(PCRE2_INFO_JITSIZE), &jitSize) == 0 && jitSize > 0
        var minLength: UInt32 = 0
        _ = otelcol_pcre2_info(compiled, UInt32(PCRE2_INFO_MINLENGTH), &minLength)
        self.minLength = Int(minLength)
        literal = Literal(pattern)
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
        if let literal { return literal.matches(UnsafeRawBufferPointer(bytes)) }
        guard bytes.count >= minLength else { return false }
        // Only whether: no group offsets are read out.
        return withMatchData { data in data.map { match(bytes, from: 0, $0) > 0 } ?? false }
    }

    /// Whether the expression matches bytes that may not be valid UTF-8: ASCII as it lies, other
    /// text as the model reads it (invalid sequences replaced), since PCRE2 in UTF mode needs
    /// valid UTF-8.
    public func matches(received bytes: UnsafeRawBufferPointer) -> Bool {
        // An ASCII literal is found in the same places of the bytes and of their decoding:
        // replacing invalid sequences changes no ASCII byte.
        if let literal { return literal.matches(bytes) }
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
        replaceAll(in: text, with: self.template(template))
    }

    /// `replaceAll` with a template read once.
    public func replaceAll(in text: String, with template: Template) -> String {
        var subject = text
        return subject.withUTF8 { utf8 in
            var out: [UInt8] = []
            guard replaceAll(in: utf8, with: template, into: &out) else { return text }
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// Appends to `out` the valid UTF-8 `subject` with every match replaced by `template`
    /// expanded; false, with nothing appended, when nothing matches (the text stays as it is).
    public func replaceAll(in subject: UnsafeBufferPointer<UInt8>, with template: Template, into out: inout [UInt8]) -> Bool {
        withMatchData { data in
            guard let data else { return false }
            var lastMatchEnd = 0
            var searchFrom = 0
            var replaced = false
            // What is left must be as long as the shortest match (which also keeps the search inside the text).
            while subject.count - searchFrom >= minLength {
                let pairs = match(subject, from: searchFrom, data)
                guard pairs > 0, let vector = otelcol_pcre2_ovector(data) else { break }
                let whole = vector[0]..<vector[1]
                out.append(contentsOf: UnsafeBufferPointer(rebasing: subject[lastMatchEnd..<whole.lowerBound]))
                if whole.upperBound > lastMatchEnd || whole.lowerBound == 0 {
                    template.expand(pairs: Int(pairs), vector, subject, into: &out)
                    replaced = true
                }
                lastMatchEnd = whole.upperBound
                // Past this match, and at least one character further.
                let width = searchFrom < subject.count ? Self.characterWidth(subject[searchFrom]) : 1
                searchFrom = max(searchFrom + width, whole.upperBound)
            }
            guard replaced || lastMatchEnd > 0 else { return false }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: subject[lastMatchEnd...]))
            return true
        }
    }

    /// A replacement template read once: its literal text and the groups it inserts, by number
    /// (names resolved against this expression).
    public struct Template: Sendable {
        enum Part: Sendable {
            case literal([UInt8])
            /// nil: a name the expression does not have, which inserts nothing.
            case group(Int?)
        }

        let parts: [Part]

        /// Appends the template with the groups of a match (`pairs` offset pairs in `vector`).
        func expand(pairs: Int, _ vector: UnsafeMutablePointer<Int>, _ subject: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
            for part in parts {
                switch part {
                case .literal(let bytes): out.append(contentsOf: bytes)
                case .group(let number):
                    guard let number, number < pairs else { continue }
                    let low = vector[2 * number], high = vector[2 * number + 1]
                    // An unset group has both offsets PCRE2_UNSET (all bits set: -1 as Swift imports size_t).
                    guard low >= 0, high >= low else { continue }
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: subject[low..<high]))
                }
            }
        }
    }

    /// `text` read as a replacement template of this expression (Go's `Expand` rules).
    public func template(_ text: String) -> Template {
        let chars = Array(text.utf8)
        var parts: [Template.Part] = []
        var literal: [UInt8] = []
        func reference(_ name: [UInt8]) {
            if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
            let text = String(decoding: name, as: UTF8.self)
            parts.append(.group(Int(text) ?? groupNames.first { $0.name == text }?.number))
        }
        var i = 0
        while i < chars.count {
            guard chars[i] == UInt8(ascii: "$"), i + 1 < chars.count else {
                literal.append(chars[i])
                i += 1
                continue
            }
            if chars[i + 1] == UInt8(ascii: "$") {
                literal.append(UInt8(ascii: "$"))
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
                literal.append(UInt8(ascii: "$"))
                i += 1
                continue
            }
            reference(name)
            i = braced ? j + 1 : j
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        return Template(parts: parts)
    }

    // MARK: Matching

    /// Calls `body` with match data for this expression's groups (this thread's, kept from one
    /// match to the next); nil only when memory is exhausted, and then nothing matches.
    private func withMatchData<T>(_ body: (OpaquePointer?) -> T) -> T {
        var fresh: Int32 = 0
        let data = otelcol_pcre2_match_data_borrow(pairs, &fresh)
        defer { otelcol_pcre2_match_data_return(data, fresh) }
        return body(data)
    }

    /// One match from `start`: PCRE2's count of offset pairs set (0 or less for none), which are
    /// in the match data's vector.
    private func match(_ subject: UnsafeBufferPointer<UInt8>, from start: Int, _ data: OpaquePointer) -> Int32 {
        if let base = subject.baseAddress {
            return jitted ? otelcol_pcre2_jit_match(code, base, subject.count, start, data)
                : otelcol_pcre2_match(code, base, subject.count, start, data)
        }
        // An empty subject may have no address; PCRE2 wants one all the same.
        var empty: UInt8 = 0
        return otelcol_pcre2_match(code, &empty, 0, start, data)
    }

    private func first(_ subject: UnsafeBufferPointer<UInt8>, from start: Int, _ data: OpaquePointer?) -> [Range<Int>?]? {
        guard let data else { return nil }
        let pairs = match(subject, from: start, data)
        guard pairs > 0, let vector = otelcol_pcre2_ovector(data) else { return nil }
        return (0..<Int(pairs)).map { group in
            let low = vector[2 * group], high = vector[2 * group + 1]
            // An unset group has both offsets PCRE2_UNSET (all bits set: -1 as Swift imports size_t).
            return low < 0 || high < low ? nil : low..<high
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
