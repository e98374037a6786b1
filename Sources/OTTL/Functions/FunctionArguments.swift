import Foundation
import Synchronization

/// A function's parameters: their names in order, how many must be given, and which one (if
/// any) is a regular expression, compiled once when the call is parsed if it is a literal.
struct OTTLSignature: Sendable {
    /// A call's regular expression argument, compiled when parsed, and its position among the
    /// call's evaluated arguments.
    typealias LiteralRegex = (index: Int, compiled: GoRegex)

    let parameters: [String]
    let required: Int
    let regex: Int?

    init(_ parameters: [String], required: Int, regex: Int? = nil) {
        self.parameters = parameters
        self.required = required
        self.regex = regex
    }

    /// The arguments in parameter order (nil where one is not given) after the first
    /// `droppingFirst` (an editor's target), and the regular expression argument compiled when it
    /// is a literal that compiles (its position among those slots); nil when a name is not a
    /// parameter or there are more arguments than parameters (the check says which). A pattern
    /// that does not compile is reported when the statement runs, as any other.
    func resolve(_ arguments: [OTTLArgument], droppingFirst dropped: Int = 0)
        -> (slots: [OTTLExpression?], regex: LiteralRegex?)? {
        var slots = [OTTLExpression?](repeating: nil, count: parameters.count)
        var next = 0
        for argument in arguments {
            let index: Int
            if let name = argument.name {
                guard let named = parameters.firstIndex(of: name) else { return nil }
                index = named
            } else {
                index = next
                next += 1
            }
            guard index < slots.count else { return nil }
            slots[index] = argument.value
        }
        var compiled: LiteralRegex?
        if let regex, regex >= dropped, case .literal(.string(let pattern))? = slots[regex], let literal = try? OTTLRegex.compile(pattern) {
            compiled = (regex - dropped, literal)
        }
        return (Array(slots.dropFirst(dropped)), compiled)
    }
}

/// A function's evaluated arguments in parameter order, read by position (the parameter's name
/// is for messages).
struct OTTLFunctionArguments {
    let name: String
    let values: [OTTLValue?]
    /// The literal regular expression of the call, compiled, and its position.
    let regex: OTTLSignature.LiteralRegex?

    func value(_ index: Int, _ parameter: String) -> OTTLValue? {
        index < values.count ? values[index] : nil
    }

    func required(_ index: Int, _ parameter: String) throws(OTTLRuntimeError) -> OTTLValue {
        guard let value = value(index, parameter) else { throw OTTLRuntimeError("\(name) needs its \(parameter) argument") }
        return value
    }

    func string(_ index: Int, _ parameter: String) throws(OTTLRuntimeError) -> String {
        guard case .string(let s) = try required(index, parameter) else { throw OTTLRuntimeError("\(name): \(parameter) must be a string") }
        return s
    }

    func int(_ index: Int, _ parameter: String) throws(OTTLRuntimeError) -> Int64 {
        guard case .int(let i) = try required(index, parameter) else { throw OTTLRuntimeError("\(name): \(parameter) must be an int") }
        return i
    }

    func optionalString(_ index: Int, _ parameter: String) throws(OTTLRuntimeError) -> String? {
        guard let value = value(index, parameter) else { return nil }
        guard case .string(let s) = value else { throw OTTLRuntimeError("\(name): \(parameter) must be a string") }
        return s
    }

    /// The pattern argument compiled: the call's literal, or the value compiled (and cached).
    func regex(_ index: Int, _ parameter: String) throws(OTTLRuntimeError) -> GoRegex {
        if let regex, regex.index == index { return regex.compiled }
        return try OTTLRegex.compile(try string(index, parameter))
    }
}

/// Compiled regular expressions by pattern; statements use few patterns, many times.
enum OTTLRegex {
    private static let cache = Mutex<[String: GoRegex]>([:])

    static func compile(_ pattern: String) throws(OTTLRuntimeError) -> GoRegex {
        if let known = cache.withLock({ $0[pattern] }) { return known }
        let regex: GoRegex
        do { regex = try GoRegex.compile(pattern) } catch { throw OTTLRuntimeError(error.description) }
        cache.withLock { $0[pattern] = regex }
        return regex
    }

}
