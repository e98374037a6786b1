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
    private static let cache = Mutex<[String: NSRegularExpression]>([:])

    static func compile(_ pattern: String) throws(OTTLRuntimeError) -> NSRegularExpression {
        if let known = cache.withLock({ $0[pattern] }) { return known }
        let regex: NSRegularExpression
        do { regex = try GoRegex.compile(pattern) } catch { throw OTTLRuntimeError(error.description) }
        cache.withLock { $0[pattern] = regex }
        return regex
    }

    static func matches(_ pattern: String, _ text: String) throws(OTTLRuntimeError) -> Bool {
        GoRegex.matches(try compile(pattern), text)
    }

    /// Replaces every match, expanding `$1` / `${name}` in the template.
    static func replace(_ pattern: String, in text: String, with template: String) throws(OTTLRuntimeError) -> String {
        replace(try compile(pattern), in: text, with: template)
    }

    static func replace(_ regex: NSRegularExpression, in text: String, with template: String) -> String {
        // Go writes `${1}`; NSRegularExpression's template takes `$1`.
        let converted = template.contains("${")
            ? template.replacingOccurrences(of: #"\$\{(\d+)\}"#, with: "\\$$1", options: .regularExpression) : template
        return regex.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: converted)
    }
}
