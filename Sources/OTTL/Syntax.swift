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
    case converter(name: String, arguments: [OTTLArgument], keys: [OTTLPath.Key], column: Int)
    case list([OTTLExpression])
    case map([(String, OTTLExpression)])
    case math(OTTLExpression, Character, OTTLExpression)
    /// A condition used as a value (a boolean argument).
    case condition(OTTLCondition)

    public static func == (lhs: OTTLExpression, rhs: OTTLExpression) -> Bool {
        switch (lhs, rhs) {
        case (.literal(let a), .literal(let b)): a == b
        case (.path(let a), .path(let b)): a == b
        case (.converter(let n1, let a1, let k1, _), .converter(let n2, let a2, let k2, _)): n1 == n2 && a1 == a2 && k1 == k2
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

public indirect enum OTTLCondition: Sendable, Equatable {
    case constant(Bool)
    case comparison(OTTLExpression, String, OTTLExpression)
    case value(OTTLExpression)
    case not(OTTLCondition)
    case and([OTTLCondition])
    case or([OTTLCondition])
}

/// `editor(arguments) where condition`.
public struct OTTLStatement: Sendable, Equatable {
    public var editor: String
    public var arguments: [OTTLArgument]
    public var condition: OTTLCondition?
    public var text: String
}

extension OTTLExpression {
    /// Every path the expression reads.
    var paths: [OTTLPath] {
        switch self {
        case .literal: []
        case .path(let p): [p]
        case .converter(_, let arguments, _, _): arguments.flatMap(\.value.paths)
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
