/// RE2's syntax in PCRE2's dialect. The two mostly agree (leftmost-first matching, the same
/// operators, `(?P<name>…)` groups); where they differ the pattern is rewritten so that PCRE2
/// matches what RE2 matches:
/// - `\d`, `\w`, `\s` (and `\D`, `\W`, `\S`) are ASCII classes in RE2; they are spelled out
///   (PCRE2's `\s` also takes the vertical tab);
/// - `$` without the `m` flag is the end of the text in RE2, but also "before a final newline" in
///   PCRE2, so it becomes `\z`;
/// - inside a class, `[` and `&` are literals in RE2; they are escaped, which PCRE2 reads the same
///   way and keeps the pattern valid for other Perl-style engines.
/// `.` and `(?m)` know only `\n` as a line end in both, as compiled here (`PCRE2_NEWLINE_LF`).
/// What RE2 refuses — backreferences, lookaround, atomic groups, possessive repeats — is refused
/// here too, so a config Go would not load does not load here either.
extension GoRegex {
    /// `pattern` rewritten in PCRE2's dialect, with RE2's meaning.
    static func translate(_ pattern: String) throws(SyntaxError) -> String {
        let chars = Array(pattern)
        var out = ""
        out.reserveCapacity(pattern.utf8.count + 8)
        // A multi-line flag anywhere: `$` keeps PCRE2's meaning, which then equals RE2's (line
        // ends are `\n` only).
        let flags = flagGroups(chars)
        let multiline = flags.contains { $0.contains("m") }
        var inClass = false
        var i = 0
        func refuse(_ what: String) -> SyntaxError {
            SyntaxError(description: "invalid regular expression \"\(pattern)\": \(what) is not RE2 syntax (Go's regexp refuses it)")
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\\" {
                guard i + 1 < chars.count else { throw SyntaxError(description: "invalid regular expression \"\(pattern)\": trailing backslash") }
                let next = chars[i + 1]
                if let ascii = asciiClass(next) {
                    out += inClass ? ascii.inside : ascii.outside
                } else if next.isNumber, next != "0", !inClass {
                    throw refuse("the backreference \\\(next)")
                } else if next == "Q" {
                    // \Q…\E quotes literally in both dialects; copied as is.
                    let rest = chars[(i + 2)...]
                    let end = rest.indices.first { rest[$0] == "\\" && $0 + 1 < chars.count && chars[$0 + 1] == "E" }
                    let stop = end.map { $0 + 2 } ?? chars.count
                    out += String(chars[i..<stop])
                    i = stop
                    continue
                } else {
                    out.append(c)
                    out.append(next)
                }
                i += 2
                continue
            }
            if inClass {
                if c == "]" {
                    inClass = false
                    out.append(c)
                } else if c == "[", i + 1 < chars.count, chars[i + 1] == ":",
                          let close = (i + 2..<chars.count).first(where: { chars[$0] == "]" && chars[$0 - 1] == ":" }) {
                    // A POSIX class, [:alpha:], the same in both.
                    out += String(chars[i...close])
                    i = close + 1
                    continue
                } else if c == "[" || c == "&" {
                    out.append("\\")
                    out.append(c)
                } else {
                    out.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case "[":
                inClass = true
                out.append(c)
                i += 1
                if i < chars.count, chars[i] == "^" { out.append("^"); i += 1 }
                // A `]` first in a class is a literal in both dialects.
                if i < chars.count, chars[i] == "]" { out += "\\]"; i += 1 }
                continue
            case "$" where !multiline:
                out += "\\z"
            case "(" where i + 1 < chars.count && chars[i + 1] == "?":
                let rest = String(chars[(i + 2)..<min(chars.count, i + 4)])
                if rest.hasPrefix("P<") {
                    out += "(?<"
                    i += 4
                    continue
                }
                if rest.hasPrefix("=") || rest.hasPrefix("!") || rest.hasPrefix("<=") || rest.hasPrefix("<!") { throw refuse("lookaround") }
                if rest.hasPrefix(">") { throw refuse("an atomic group") }
                if rest.hasPrefix("P=") || rest.hasPrefix("P>") { throw refuse("a named backreference") }
                out.append(c)
            case "+" where i > 0 && ["*", "+", "?"].contains(chars[i - 1]) && !(i > 1 && chars[i - 2] == "\\"):
                throw refuse("a possessive repeat")
            default:
                out.append(c)
            }
            i += 1
        }
        if inClass { throw SyntaxError(description: "invalid regular expression \"\(pattern)\": missing closing ]") }
        return out
    }

    /// RE2's ASCII classes, as written outside a class and inside one.
    private static func asciiClass(_ letter: Character) -> (outside: String, inside: String)? {
        switch letter {
        case "d": ("[0-9]", "0-9")
        // Negated inside a class, PCRE2's own classes, ASCII without PCRE2_UCP; its \S also
        // leaves out the vertical tab, which RE2's matches.
        case "D": ("[^0-9]", "\\D")
        case "w": ("[0-9A-Za-z_]", "0-9A-Za-z_")
        case "W": ("[^0-9A-Za-z_]", "\\W")
        case "s": ("[\\t\\n\\f\\r ]", "\\t\\n\\f\\r ")
        case "S": ("[^\\t\\n\\f\\r ]", "\\S")
        default: nil
        }
    }

    /// The flags of every `(?flags)` and `(?flags:` group (before any `-`).
    private static func flagGroups(_ chars: [Character]) -> [String] {
        var groups: [String] = []
        var i = 0
        while i + 2 < chars.count {
            if chars[i] == "\\" { i += 2; continue }
            if chars[i] == "(", chars[i + 1] == "?" {
                var j = i + 2
                var flags = ""
                while j < chars.count, chars[j].isLetter { flags.append(chars[j]); j += 1 }
                if j < chars.count, chars[j] == ")" || chars[j] == ":" || chars[j] == "-", !flags.isEmpty, !flags.hasPrefix("P") { groups.append(flags) }
            }
            i += 1
        }
        return groups
    }
}
