/// OTTL's tokens. Numbers are unsigned here; a leading minus is the parser's.
struct Token: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        case string(String)
        case int(Int64)
        case double(Double)
        case bytes([UInt8])
        case symbol(String)
        case end
    }

    var kind: Kind
    /// 1-based column of the token's first character.
    var column: Int
}

/// An OTTL statement or condition that cannot be read, with where.
public struct OTTLParseError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var column: Int
    public var text: String

    public var description: String { "\(message) at column \(column) of \"\(text)\"" }
}

enum Lexer {
    static func tokens(_ text: String) throws(OTTLParseError) -> [Token] {
        let chars = Array(text.unicodeScalars)
        var out: [Token] = []
        var i = 0
        func fail(_ message: String) -> OTTLParseError { OTTLParseError(message: message, column: i + 1, text: text) }
        while i < chars.count {
            let c = chars[i]
            let start = i
            if c == " " || c == "\t" || c == "\n" || c == "\r" { i += 1; continue }
            if c == "\"" {
                var value = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == "\\", i + 1 < chars.count {
                        let next = chars[i + 1]
                        switch next {
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        case "r": value.append("\r")
                        default: value.append(next)
                        }
                        i += 2
                        continue
                    }
                    if chars[i] == "\"" { closed = true; i += 1; break }
                    value.append(chars[i])
                    i += 1
                }
                guard closed else { i = start; throw fail("unterminated string") }
                out.append(Token(kind: .string(String(value)), column: start + 1))
                continue
            }
            if c == "0", i + 1 < chars.count, chars[i + 1] == "x" || chars[i + 1] == "X" {
                i += 2
                var hex = ""
                while i < chars.count, chars[i].properties.isASCIIHexDigit { hex.unicodeScalars.append(chars[i]); i += 1 }
                guard !hex.isEmpty, hex.count % 2 == 0 else { i = start; throw fail("byte literal needs an even number of hex digits") }
                var bytes: [UInt8] = []
                var index = hex.startIndex
                while index < hex.endIndex {
                    let next = hex.index(index, offsetBy: 2)
                    bytes.append(UInt8(hex[index..<next], radix: 16) ?? 0)
                    index = next
                }
                out.append(Token(kind: .bytes(bytes), column: start + 1))
                continue
            }
            if c.properties.numericType != nil && c.isASCII || (c == "." && i + 1 < chars.count && chars[i + 1].isASCII && chars[i + 1].properties.numericType != nil) {
                var number = ""
                var isDouble = false
                while i < chars.count, chars[i].isASCII, chars[i].properties.numericType != nil || chars[i] == "." || chars[i] == "e" || chars[i] == "E"
                        || ((chars[i] == "-" || chars[i] == "+") && (number.hasSuffix("e") || number.hasSuffix("E"))) {
                    if chars[i] == "." || chars[i] == "e" || chars[i] == "E" { isDouble = true }
                    number.unicodeScalars.append(chars[i])
                    i += 1
                }
                if isDouble {
                    guard let value = Double(number) else { i = start; throw fail("invalid number \(number)") }
                    out.append(Token(kind: .double(value), column: start + 1))
                } else {
                    guard let value = Int64(number) else { i = start; throw fail("invalid integer \(number)") }
                    out.append(Token(kind: .int(value), column: start + 1))
                }
                continue
            }
            if c.properties.isAlphabetic && c.isASCII || c == "_" {
                var word = ""
                while i < chars.count, chars[i].isASCII, chars[i].properties.isAlphabetic || chars[i].properties.numericType != nil || chars[i] == "_" {
                    word.unicodeScalars.append(chars[i])
                    i += 1
                }
                out.append(Token(kind: .identifier(word), column: start + 1))
                continue
            }
            let two = i + 1 < chars.count ? String(String.UnicodeScalarView([c, chars[i + 1]])) : ""
            if ["==", "!=", "<=", ">="].contains(two) {
                out.append(Token(kind: .symbol(two), column: start + 1))
                i += 2
                continue
            }
            if "<>+-*/=(),.[]{}:".unicodeScalars.contains(c) {
                out.append(Token(kind: .symbol(String(c)), column: start + 1))
                i += 1
                continue
            }
            throw fail("unexpected character \"\(c)\"")
        }
        out.append(Token(kind: .end, column: chars.count + 1))
        return out
    }
}
