import Foundation
import OTLP
import OTTL
import Pipeline

/// The topics each signal of a kafka receiver reads: names, or, as in Go, regular expressions
/// once any entry of a signal starts with `^` (then every entry of that signal is one, matched
/// unanchored like Go's, and `exclude_topics` takes out topics that match one of its expressions).
/// Patterns are resolved against the cluster's topic list, which the receiver fetches again every
/// `metadata.refresh_interval`, so a topic created later is picked up.
struct TopicSubscription: Sendable {
    struct Entry: Sendable {
        let signal: Signal
        let source: TopicRouting.Source
        let names: [String]
        let patterns: [Pattern]
        let excluded: [Pattern]
    }

    /// A compiled expression (`GoRegex` is Sendable: immutable once made).
    struct Pattern: Sendable {
        let text: String
        let expression: GoRegex

        init(_ text: String) throws(GoRegex.SyntaxError) {
            self.text = text
            expression = try GoRegex.compile(text)
        }

        func matches(_ topic: String) -> Bool {
            expression.matches(topic)
        }
    }

    let entries: [Entry]

    var usesPatterns: Bool { entries.contains { !$0.patterns.isEmpty } }

    init(entries: [Entry]) { self.entries = entries }

    /// The subscription of a receiver's signals; errors name the key of the entry at fault.
    init(_ settings: KafkaReceiverSettings, signals: [Signal]) throws(ConfigError) {
        var entries: [Entry] = []
        for signal in signals {
            let (topics, encoding) = settings.source(signal)
            let source = TopicRouting.Source(signal: signal, encoding: encoding)
            let excludes = settings.signalSettings(signal).exclude_topics ?? []
            if let index = topics.firstIndex(of: "") { throw ConfigError(path: "\(signal.rawValue).topics[\(index)]", message: "must not be empty") }
            if let index = excludes.firstIndex(of: "") { throw ConfigError(path: "\(signal.rawValue).exclude_topics[\(index)]", message: "must not be empty") }
            guard topics.contains(where: { $0.hasPrefix("^") }) else {
                if !excludes.isEmpty {
                    throw ConfigError(path: "\(signal.rawValue).exclude_topics", message: "needs a regular expression among \(signal.rawValue).topics (an entry starting with ^)")
                }
                entries.append(Entry(signal: signal, source: source, names: topics, patterns: [], excluded: []))
                continue
            }
            entries.append(Entry(signal: signal, source: source, names: [],
                                 patterns: try Self.compile(topics, path: "\(signal.rawValue).topics"),
                                 excluded: try Self.compile(excludes, path: "\(signal.rawValue).exclude_topics")))
        }
        self.entries = entries
    }

    private static func compile(_ texts: [String], path: String) throws(ConfigError) -> [Pattern] {
        var patterns: [Pattern] = []
        for (index, text) in texts.enumerated() {
            do { patterns.append(try Pattern(text)) } catch {
                throw ConfigError(path: "\(path)[\(index)]", message: "\(error)")
            }
        }
        return patterns
    }

    /// The signals (and encodings) each topic carries, given the topics the cluster has (ignored
    /// for signals that name their topics).
    func sources(existing: [String]) -> [String: [TopicRouting.Source]] {
        var sources: [String: [TopicRouting.Source]] = [:]
        for entry in entries {
            var topics = entry.names
            if !entry.patterns.isEmpty {
                topics = existing.filter { topic in
                    !topic.hasPrefix("__") && entry.patterns.contains { $0.matches(topic) } && !entry.excluded.contains { $0.matches(topic) }
                }
            }
            for topic in topics where !(sources[topic]?.contains(entry.source) ?? false) {
                sources[topic, default: []].append(entry.source)
            }
        }
        return sources
    }
}
