import Foundation
import Synchronization

/// A function's evaluated arguments, positional then named, read by parameter position and name.
struct OTTLFunctionArguments {
    let name: String
    let positional: [OTTLValue]
    let named: [String: OTTLValue]

    func value(_ index: Int, _ parameter: String) -> OTTLValue? {
        index < positional.count ? positional[index] : named[parameter]
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

    static func matches(_ pattern: String, _ text: String) throws(OTTLRuntimeError) -> Bool {
        try compile(pattern).matches(text)
    }

    /// Replaces every match, expanding `$1` / `${name}` in the template.
    static func replace(_ pattern: String, in text: String, with template: String) throws(OTTLRuntimeError) -> String {
        replace(try compile(pattern), in: text, with: template)
    }

    static func replace(_ regex: GoRegex, in text: String, with template: String) -> String {
        regex.replaceAll(in: text, with: template)
    }
}
