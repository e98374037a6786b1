/// The parsed forms of OTTL statements and conditions.

/// `resource.attributes["k"]`: an optional context name, field names, then map/list indexes.
public struct OTTLPath: Sendable, Equatable, CustomStringConvertible {
    public enum Key: Sendable, Equatable {
        case string(String)
        case int(Int64)
    }

    public var context: String?
    public var fields: [String]
    public var keys: [Key]
    /// Column in the statement, for errors found after parsing.
    var column: Int

    public var description: String {
        ((context.map { [$0] } ?? []) + fields).joined(separator: ".") + keys.map {
            switch $0 { case .string(let s): "[\"\(s)\"]"; case .int(let i): "[\(i)]" }
        }.joined()
    }
}

public indirect enum OTTLExpression: Sendable, Equatable {
    case literal(OTTLValue)
    case path(OTTLPath)
    case converter(OTTLCall)
    case list([OTTLExpression])
    case map([(String, OTTLExpression)])
    case math(OTTLExpression, Character, OTTLExpression)
    /// A condition used as a value (a boolean argument).
    case condition(OTTLCondition)

    public static func == (lhs: OTTLExpression, rhs: OTTLExpression) -> Bool {
        switch (lhs, rhs) {
        case (.literal(let a), .literal(let b)): a == b
        case (.path(let a), .path(let b)): a == b
        case (.converter(let a), .converter(let b)): a == b
        case (.list(let a), .list(let b)): a == b
        case (.map(let a), .map(let b)): a.map(\.0) == b.map(\.0) && a.map(\.1) == b.map(\.1)
        case (.math(let l1, let o1, let r1), .math(let l2, let o2, let r2)): l1 == l2 && o1 == o2 && r1 == r2
        case (.condition(let a), .condition(let b)): a == b
        default: false
        }
    }
}

public struct OTTLArgument: Sendable, Equatable {
    public var name: String?
    public var value: OTTLExpression
}

/// A converter call, `Name(arguments)[keys]`, resolved when parsed: the converter, and the
/// arguments in parameter order. A class: evaluation reads it for every item, and a struct of
/// this many references would be retained field by field each time.
public final class OTTLCall: Sendable, Equatable {
    public let name: String
    public let arguments: [OTTLArgument]
    public let keys: [OTTLPath.Key]
    let column: Int
    /// nil when the name is not a converter or the arguments do not fit it (the check reports it).
    let converter: OTTLConverter?
    let slots: [OTTLExpression?]
    let regex: OTTLSignature.LiteralRegex?

    init(name: String, arguments: [OTTLArgument], keys: [OTTLPath.Key], column: Int) {
        self.name = name
        self.arguments = arguments
        self.keys = keys
        self.column = column
        let converter = OTTLConverter(rawValue: name)
        let resolved = converter?.signature.resolve(arguments)
        self.converter = resolved == nil ? nil : converter
        slots = resolved?.slots ?? []
        regex = resolved?.regex
    }

    public static func == (lhs: OTTLCall, rhs: OTTLCall) -> Bool {
        lhs.name == rhs.name && lhs.arguments == rhs.arguments && lhs.keys == rhs.keys
    }
}

public indirect enum OTTLCondition: Sendable, Equatable {
    case constant(Bool)
    case comparison(OTTLExpression, String, OTTLExpression)
    case value(OTTLExpression)
    case not(OTTLCondition)
    case and([OTTLCondition])
    case or([OTTLCondition])
}

/// `editor(arguments) where condition`, resolved when parsed like a converter call (and a class
/// for the same reason).
public final class OTTLStatement: Sendable, Equatable {
    public let editor: String
    public let arguments: [OTTLArgument]
    public let condition: OTTLCondition?
    public let text: String
    /// nil when the name is not an editor or the arguments do not fit it (the check reports it).
    let function: OTTLEditor?
    /// The arguments after the target, in parameter order.
    let slots: [OTTLExpression?]
    let regex: OTTLSignature.LiteralRegex?

    init(editor: String, arguments: [OTTLArgument], condition: OTTLCondition?, text: String) {
        self.editor = editor
        self.arguments = arguments
        self.condition = condition
        self.text = text
        let function = OTTLEditor(rawValue: editor)
        let resolved = function?.signature.resolve(arguments, droppingFirst: 1)
        self.function = resolved == nil ? nil : function
        slots = resolved?.slots ?? []
        regex = resolved?.regex
    }

    public static func == (lhs: OTTLStatement, rhs: OTTLStatement) -> Bool {
        lhs.editor == rhs.editor && lhs.arguments == rhs.arguments && lhs.condition == rhs.condition && lhs.text == rhs.text
    }
}

extension OTTLExpression {
    /// Every path the expression reads.
    var paths: [OTTLPath] {
        switch self {
        case .literal: []
        case .path(let p): [p]
        case .converter(let call): call.arguments.flatMap(\.value.paths)
        case .list(let items): items.flatMap(\.paths)
        case .map(let entries): entries.flatMap(\.1.paths)
        case .math(let l, _, let r): l.paths + r.paths
        case .condition(let c): c.paths
        }
    }
}

extension OTTLCondition {
    var paths: [OTTLPath] {
        switch self {
        case .constant: []
        case .comparison(let l, _, let r): l.paths + r.paths
        case .value(let v): v.paths
        case .not(let c): c.paths
        case .and(let cs), .or(let cs): cs.flatMap(\.paths)
        }
    }
}

extension OTTLStatement {
    var paths: [OTTLPath] { arguments.flatMap(\.value.paths) + (condition?.paths ?? []) }
}
