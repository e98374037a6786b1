import Foundation

/// The Prometheus text exposition read back: what the status page and the OTLP push of the
/// collector's own metrics are made from, so both show exactly what the endpoint serves.
public enum PrometheusText {
    public struct Sample: Sendable {
        public var name: String
        public var labels: [(String, String)]
        public var value: Double
        /// `counter`, `gauge` or `histogram` from the family's `# TYPE` line (`gauge` without one).
        public var type: String

        public func label(_ key: String) -> String? { labels.first { $0.0 == key }?.1 }
    }

    public static func parse(_ text: String) -> [Sample] {
        var types: [String: String] = [:]
        var samples: [Sample] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ")
                if parts.count == 2 { types[String(parts[0])] = String(parts[1]) }
                continue
            }
            guard !line.hasPrefix("#"), var sample = sample(line) else { continue }
            var family = sample.name
            for suffix in ["_bucket", "_sum", "_count"] where sample.name.hasSuffix(suffix) && types[String(sample.name.dropLast(suffix.count))] == "histogram" {
                family = String(sample.name.dropLast(suffix.count))
            }
            sample.type = types[family] ?? "gauge"
            samples.append(sample)
        }
        return samples
    }

    /// One sample line: `name{label="value",…} value`.
    private static func sample(_ line: Substring) -> Sample? {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { return nil }
        let head = line[..<space]
        guard let brace = head.firstIndex(of: "{") else { return Sample(name: String(head), labels: [], value: value, type: "gauge") }
        var labels: [(String, String)] = []
        var rest = head[head.index(after: brace)...].dropLast()
        while let equals = rest.firstIndex(of: "=") {
            let key = String(rest[..<equals]).trimmingCharacters(in: CharacterSet(charactersIn: ", "))
            rest = rest[rest.index(after: equals)...]
            guard rest.first == "\"" else { return nil }
            rest = rest.dropFirst()
            var text = "", escaped = false
            while let character = rest.first {
                rest = rest.dropFirst()
                if escaped {
                    text.append(character == "n" ? "\n" : character)
                    escaped = false
                } else if character == "\\" {
                    escaped = true
                } else if character == "\"" {
                    break
                } else {
                    text.append(character)
                }
            }
            labels.append((key, text))
        }
        return Sample(name: String(head[..<brace]), labels: labels, value: value, type: "gauge")
    }
}
