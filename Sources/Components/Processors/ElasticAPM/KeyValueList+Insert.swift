import OTLP

/// Writes that keep what is there: every enrichment of the `elasticapm` processor adds a key
/// only when the item does not have it, so values an agent or an earlier stage set win.
extension Array where Element == KeyValue {
    func has(_ key: String) -> Bool {
        contains { $0.key == key }
    }

    mutating func insert(_ key: String, string: String) {
        guard !has(key) else { return }
        append(.with { $0.key = key; $0.value.stringValue = string })
    }

    /// Sets `key` whether or not it is there (the first entry of the key, as a lookup finds it).
    mutating func set(_ key: String, string: String) {
        if let index = firstIndex(where: { $0.key == key }) {
            self[index].value.value = .stringValue(string)
        } else {
            append(.with { $0.key = key; $0.value.stringValue = string })
        }
    }
}
