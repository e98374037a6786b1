/// Statements and conditions parsed and checked for one context: every function exists and gets
/// a valid number of arguments, every path exists in the context.
public struct OTTLProgram<C: OTTLContext>: Sendable {
    public let statements: [OTTLStatement]
    public let conditions: [OTTLCondition]
    /// Each condition and statement compiled for the context, where it compiles.
    @usableFromInline let compiled: [OTTLCompiledCondition<C>?]
    @usableFromInline let compiledStatements: [OTTLCompiledStatement<C>?]

    public init(statements: [String] = [], conditions: [String] = []) throws(OTTLParseError) {
        var parsedStatements: [OTTLStatement] = []
        for text in statements {
            let statement = try OTTLParser.statement(text)
            try Self.check(statement, text: text)
            parsedStatements.append(statement)
        }
        var parsedConditions: [OTTLCondition] = []
        for text in conditions {
            let condition = try OTTLParser.condition(text)
            try Self.check(condition, text: text)
            parsedConditions.append(condition)
        }
        self.statements = parsedStatements
        self.conditions = parsedConditions
        compiled = parsedConditions.map(C.compile)
        compiledStatements = parsedStatements.map(C.compile)
    }

    /// The same statements and conditions for another context of the same name and paths (the
    /// encoded form of a context), without parsing or checking them again.
    public init<Other: OTTLContext>(_ other: OTTLProgram<Other>) {
        precondition(Other.name == C.name && Other.fields == C.fields, "\(C.self) has other paths than \(Other.self)")
        statements = other.statements
        conditions = other.conditions
        compiled = other.conditions.map(C.compile)
        compiledStatements = other.statements.map(C.compile)
    }

    private static func check(_ statement: OTTLStatement, text: String) throws(OTTLParseError) {
        guard let signature = OTTLEditor(rawValue: statement.editor)?.signature else {
            throw OTTLParseError(message: "unknown editor \(statement.editor)", column: 1, text: text)
        }
        try checkArity(statement.editor, statement.arguments, signature, column: 1, text: text)
        guard case .path? = statement.arguments.first?.value else {
            throw OTTLParseError(message: "\(statement.editor) needs a path as its first argument", column: 1, text: text)
        }
        for argument in statement.arguments { try check(argument.value, text: text) }
        if let condition = statement.condition { try check(condition, text: text) }
    }

    private static func check(_ condition: OTTLCondition, text: String) throws(OTTLParseError) {
        switch condition {
        case .constant: break
        case .comparison(let l, _, let r): try check(l, text: text); try check(r, text: text)
        case .value(let v): try check(v, text: text)
        case .not(let c): try check(c, text: text)
        case .and(let cs), .or(let cs): for c in cs { try check(c, text: text) }
        }
    }

    private static func check(_ expression: OTTLExpression, text: String) throws(OTTLParseError) {
        switch expression {
        case .literal: break
        case .path(let path):
            do { try C.check(path) } catch { throw OTTLParseError(message: error.message, column: error.column, text: text) }
        case .converter(let call):
            guard let signature = OTTLConverter(rawValue: call.name)?.signature else {
                throw OTTLParseError(message: "unknown converter \(call.name)", column: call.column, text: text)
            }
            try checkArity(call.name, call.arguments, signature, column: call.column, text: text)
            for argument in call.arguments { try check(argument.value, text: text) }
        case .list(let items): for item in items { try check(item, text: text) }
        case .map(let entries): for (_, item) in entries { try check(item, text: text) }
        case .math(let l, _, let r): try check(l, text: text); try check(r, text: text)
        case .condition(let c): try check(c, text: text)
        }
    }

    private static func checkArity(_ name: String, _ arguments: [OTTLArgument], _ signature: OTTLSignature,
                                   column: Int, text: String) throws(OTTLParseError) {
        let positional = arguments.filter { $0.name == nil }.count
        let named = arguments.compactMap(\.name)
        if let unknown = named.first(where: { !signature.parameters.contains($0) }) {
            throw OTTLParseError(message: "\(name) has no parameter \(unknown)", column: column, text: text)
        }
        let given = positional + named.count
        guard given >= signature.required, given <= signature.parameters.count else {
            let expected = signature.required == signature.parameters.count ? "\(signature.required)" : "\(signature.required) to \(signature.parameters.count)"
            throw OTTLParseError(message: "\(name) takes \(expected) arguments, got \(given)", column: column, text: text)
        }
    }

    /// Paths' context names across the statements and conditions, for inferring the context.
    public static func contexts(statements: [String], conditions: [String]) throws(OTTLParseError) -> Set<String> {
        var names: Set<String> = []
        for text in statements {
            for path in try OTTLParser.statement(text).paths { if let c = path.normalized().context { names.insert(c) } }
        }
        for text in conditions {
            for path in try OTTLParser.condition(text).paths { if let c = path.normalized().context { names.insert(c) } }
        }
        return names
    }
}

/// How an evaluation error is handled: `propagate` fails the data, `ignore` logs and goes on,
/// `silent` goes on.
public enum OTTLErrorMode: String, Sendable, CaseIterable {
    case ignore, silent, propagate

    /// A statement's or condition's failure as this mode handles it: thrown, reported, or let go.
    @usableFromInline
    func handle(_ error: OTTLRuntimeError, _ report: (OTTLRuntimeError) -> Void) throws(OTTLRuntimeError) {
        switch self {
        case .propagate: throw error
        case .ignore: report(error)
        case .silent: break
        }
    }
}
