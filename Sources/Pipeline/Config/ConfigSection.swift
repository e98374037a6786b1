import Foundation
import Synchronization
import Yams

/// A part of a component's configuration. `init()` holds the defaults: keys the user leaves out
/// keep them, and a key written with no value (`grpc:`) means "this section, with defaults".
public protocol ConfigSection: Codable, Sendable {
    init()
}

/// A string-valued config option with a fixed set of spellings; errors list them.
public protocol ConfigOption: RawRepresentable<String>, CaseIterable, Codable, Sendable {}

enum SectionDefaults {
    private static let cache = Mutex<[ObjectIdentifier: ConfigNode]>([:])

    /// The defaults of a section type as a config tree, so user values can be merged over them.
    static func node(for type: any ConfigSection.Type) -> ConfigNode {
        let key = ObjectIdentifier(type)
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let node = encode(type)
        cache.withLock { $0[key] = node }
        return node
    }

    private static func encode<S: ConfigSection>(_ type: S.Type) -> ConfigNode {
        // Encoding a plain struct of config values cannot fail; an empty tree would only mean that
        // every key must then be given explicitly.
        guard let yaml = try? YAMLEncoder().encode(S()),
              let node = try? ConfigNode.parse(yaml: yaml, origin: "defaults")
        else { return .emptyMapping }
        if case .scalar(let text, _) = node, text == "{}" { return .emptyMapping }
        return node
    }
}
