/// A key the Go collector accepts that this collector reads but does not act on, with what
/// happens instead. A Go config must load unchanged, so such keys are never errors; but a user
/// who set one is told once, at start and by `validate`, so nothing is silently ignored.
public struct InertKey: Sendable {
    /// The key's path below its section; a segment holding `*` matches every key of that level
    /// that fits the pattern (`*_dynamic_index`, `*`).
    public let path: [String]
    public let instead: String

    public init(_ path: String, _ instead: String) {
        self.path = path.split(separator: ".").map(String.init)
        self.instead = instead
    }

    private init(path: [String], instead: String) {
        self.path = path
        self.instead = instead
    }

    /// Whether `keys` (a path from the section's top) names this key; list indexes (`headers[0]`)
    /// do not count, so `headers.from_attribute` names the key in every entry of the list.
    func matches(_ keys: [String]) -> Bool {
        let keys = keys.map { key in key.firstIndex(of: "[").map { String(key[..<$0]) } ?? key }
        return keys.count == path.count && zip(keys, path).allSatisfy { ConfigNode.matches($0, $1) }
    }

    /// The same key as seen from the section that holds `prefix`.
    public func under(_ prefix: String) -> InertKey {
        InertKey(path: prefix.split(separator: ".").map(String.init) + path, instead: instead)
    }
}

extension Array where Element == InertKey {
    public func under(_ prefix: String) -> [InertKey] { map { $0.under(prefix) } }
}

extension ConfigNode {
    /// One warning per inert key set in this tree (as the user wrote it, before defaults are
    /// merged), naming the key's full path. A key set to null counts as not set.
    public func warnings(for keys: [InertKey]) -> [String] {
        var found: [String] = []
        for key in keys {
            collect(key.path[...], at: [], into: &found, instead: key.instead)
        }
        return found
    }

    private func collect(_ rest: ArraySlice<String>, at path: [String], into found: inout [String], instead: String) {
        guard let segment = rest.first else {
            if self != .null { found.append("\(path.joined(separator: ".")) is accepted but has no effect: \(instead)") }
            return
        }
        switch self {
        case .mapping(let pairs):
            for (key, value) in pairs where Self.matches(key, segment) {
                value.collect(rest.dropFirst(), at: path + [key], into: &found, instead: instead)
            }
        case .sequence(let items):
            // A list's entries are looked into with the same key: `headers.from_attribute`.
            for (index, item) in items.enumerated() {
                item.collect(rest, at: path.dropLast() + [(path.last ?? "") + "[\(index)]"], into: &found, instead: instead)
            }
        default:
            break
        }
    }

    /// `*` stands for any run of characters; only one is needed by any key the Go collector has.
    static func matches(_ key: String, _ pattern: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return key == pattern }
        let prefix = pattern[..<star], suffix = pattern[pattern.index(after: star)...]
        return key.count >= prefix.count + suffix.count && key.hasPrefix(prefix) && key.hasSuffix(suffix)
    }
}
