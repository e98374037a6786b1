/// Reads OTTL statements and conditions (the grammar of the Go implementation). Enum names are
/// resolved here, so they must be known: `enums` maps each name to its value.
public struct OTTLParser {
    private var tokens: [Token] = []
    private var position = 0
    private var text = ""

    public init() {}

    public static func statement(_ text: String) throws(OTTLParseError) -> OTTLStatement {
        var parser = OTTLParser()
        try parser.load(text)
        guard case .identifier(let editor) = parser.peek.kind, case .symbol("(") = parser.peek(1).kind else {
            throw parser.error("a statement starts with an editor call, like set(...)")
        }
        guard editor.first?.isLowercase == true else { throw parser.error("editor names must start with a lowercase letter") }
        parser.position += 2
        let arguments = try parser.arguments()
        var condition: OTTLCondition?
        if case .identifier("where") = parser.peek.kind {
            parser.position += 1
            condition = try parser.boolExpression()
        }
        try parser.expectEnd()
        return OTTLStatement(editor: editor, arguments: arguments, condition: condition, text: text)
    }

    public static func condition(_ text: String) throws(OTTLParseError) -> OTTLCondition {
        var parser = OTTLParser()
        try parser.load(text)
        let condition = try parser.boolExpression()
        try parser.expectEnd()
        return condition
    }

    private mutating func load(_ text: String) throws(OTTLParseError) {
        self.text = text
        tokens = try Lexer.tokens(text)
    }

    private var peek: Token { tokens[min(position, tokens.count - 1)] }
    private func peek(_ ahead: Int) -> Token { tokens[min(position + ahead, tokens.count - 1)] }

    private func error(_ message: String) -> OTTLParseError {
        OTTLParseError(message: message, column: peek.column, text: text)
    }

    private mutating func expect(_ symbol: String) throws(OTTLParseError) {
        guard case .symbol(symbol) = peek.kind else { throw error("expected \"\(symbol)\"") }
        position += 1
    }

    private mutating func expectEnd() throws(OTTLParseError) {
        guard case .end = peek.kind else { throw error("unexpected \(describe(peek))") }
    }

    private func describe(_ token: Token) -> String {
        switch token.kind {
        case .identifier(let s): "\"\(s)\""
        case .string(let s): "string \"\(s)\""
        case .int(let i): "\(i)"
        case .double(let d): "\(d)"
        case .bytes: "bytes"
        case .symbol(let s): "\"\(s)\""
        case .end: "end of text"
        }
    }

    private func isKeyword(_ word: String) -> Bool {
        if case .identifier(word) = peek.kind { return true }
        return false
    }

    // MARK: Conditions

    private mutating func boolExpression() throws(OTTLParseError) -> OTTLCondition {
        var terms = [try boolTerm()]
        while isKeyword("or") { position += 1; terms.append(try boolTerm()) }
        return terms.count == 1 ? terms[0] : .or(terms)
    }

    private mutating func boolTerm() throws(OTTLParseError) -> OTTLCondition {
        var factors = [try boolFactor()]
        while isKeyword("and") { position += 1; factors.append(try boolFactor()) }
        return factors.count == 1 ? factors[0] : .and(factors)
    }

    private mutating func boolFactor() throws(OTTLParseError) -> OTTLCondition {
        if isKeyword("not") {
            position += 1
            return .not(try boolFactor())
        }
        if case .symbol("(") = peek.kind {
            // A parenthesised condition, unless the parentheses group a value being compared.
            let saved = position
            position += 1
            if let inner = try? boolExpression(), case .symbol(")") = peek.kind {
                position += 1
                if !isOperatorNext { return inner }
            }
            position = saved
        }
        let left = try value()
        if case .symbol(let op) = peek.kind, ["==", "!=", "<", "<=", ">", ">="].contains(op) {
            position += 1
            return .comparison(left, op, try value())
        }
        switch left {
        case .literal(.bool(let b)): return .constant(b)
        case .converter: return .value(left)
        default: throw error("expected a comparison, true, false or a converter")
        }
    }

    private var isOperatorNext: Bool {
        if case .symbol(let s) = peek.kind { return ["==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/"].contains(s) }
        return false
    }

    // MARK: Values

    private mutating func value() throws(OTTLParseError) -> OTTLExpression {
        var left = try mathTerm()
        while case .symbol(let op) = peek.kind, op == "+" || op == "-" {
            position += 1
            left = .math(left, Character(op), try mathTerm())
        }
        return left
    }

    private mutating func mathTerm() throws(OTTLParseError) -> OTTLExpression {
        var left = try factor()
        while case .symbol(let op) = peek.kind, op == "*" || op == "/" {
            position += 1
            left = .math(left, Character(op), try factor())
        }
        return left
    }

    private mutating func factor() throws(OTTLParseError) -> OTTLExpression {
        let token = peek
        switch token.kind {
        case .string(let s): position += 1; return .literal(.string(s))
        case .int(let i): position += 1; return .literal(.int(i))
        case .double(let d): position += 1; return .literal(.double(d))
        case .bytes(let b): position += 1; return .literal(.bytes(b))
        case .symbol("-"):
            position += 1
            switch peek.kind {
            case .int(let i): position += 1; return .literal(.int(-i))
            case .double(let d): position += 1; return .literal(.double(-d))
            default: return .math(.literal(.int(0)), "-", try factor())
            }
        case .symbol("+"):
            position += 1
            return try factor()
        case .symbol("("):
            position += 1
            let inner = try value()
            try expect(")")
            return inner
        case .symbol("["):
            position += 1
            var items: [OTTLExpression] = []
            if case .symbol("]") = peek.kind { position += 1; return .list(items) }
            while true {
                items.append(try value())
                if case .symbol(",") = peek.kind { position += 1; continue }
                try expect("]")
                return .list(items)
            }
        case .symbol("{"):
            position += 1
            var entries: [(String, OTTLExpression)] = []
            if case .symbol("}") = peek.kind { position += 1; return .map(entries) }
            while true {
                guard case .string(let key) = peek.kind else { throw error("map keys are strings") }
                position += 1
                try expect(":")
                entries.append((key, try value()))
                if case .symbol(",") = peek.kind { position += 1; continue }
                try expect("}")
                return .map(entries)
            }
        case .identifier(let word):
            switch word {
            case "true": position += 1; return .literal(.bool(true))
            case "false": position += 1; return .literal(.bool(false))
            case "nil": position += 1; return .literal(.none)
            default: break
            }
            if case .symbol("(") = peek(1).kind {
                guard word.first?.isUppercase == true else {
                    throw error("\(word) is an editor; only converters (capitalised) can be used as values")
                }
                position += 2
                let arguments = try arguments()
                return .converter(OTTLCall(name: word, arguments: arguments, keys: try keys(), column: token.column))
            }
            if word.first?.isUppercase == true {
                guard let value = OTTLEnums.value(of: word) else { throw error("unknown enum \(word)") }
                position += 1
                return .literal(.int(value))
            }
            return .path(try path())
        default:
            throw error("unexpected \(describe(token))")
        }
    }

    private mutating func path() throws(OTTLParseError) -> OTTLPath {
        let column = peek.column
        var fields: [String] = []
        while case .identifier(let word) = peek.kind {
            fields.append(word)
            position += 1
            guard case .symbol(".") = peek.kind else { break }
            position += 1
        }
        // Normalized once here, so that evaluation does not move the context name per item.
        return OTTLPath(context: nil, fields: fields, keys: try keys(), column: column).normalized()
    }

    private mutating func keys() throws(OTTLParseError) -> [OTTLPath.Key] {
        var keys: [OTTLPath.Key] = []
        while case .symbol("[") = peek.kind {
            position += 1
            switch peek.kind {
            case .string(let s): keys.append(.string(s))
            case .int(let i): keys.append(.int(i))
            default: throw error("an index is a string or an integer")
            }
            position += 1
            try expect("]")
        }
        return keys
    }

    private mutating func arguments() throws(OTTLParseError) -> [OTTLArgument] {
        var arguments: [OTTLArgument] = []
        if case .symbol(")") = peek.kind { position += 1; return arguments }
        while true {
            var name: String?
            if case .identifier(let word) = peek.kind, case .symbol("=") = peek(1).kind {
                name = word
                position += 2
            } else if arguments.contains(where: { $0.name != nil }) {
                throw error("positional arguments must come before named ones")
            }
            arguments.append(OTTLArgument(name: name, value: try argumentValue()))
            if case .symbol(",") = peek.kind { position += 1; continue }
            try expect(")")
            return arguments
        }
    }

    /// An argument is a value, or a whole condition (for functions taking one).
    private mutating func argumentValue() throws(OTTLParseError) -> OTTLExpression {
        let saved = position
        let value = try value()
        if case .symbol(let s) = peek.kind, ["==", "!=", "<", "<=", ">", ">="].contains(s) {
            position = saved
            return .condition(try boolExpression())
        }
        if isKeyword("and") || isKeyword("or") {
            position = saved
            return .condition(try boolExpression())
        }
        return value
    }
}
