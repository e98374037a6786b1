import OTLP

/// What a component is in the pipeline graph.
public enum ComponentKind: String, Sendable, CaseIterable {
    case receiver, processor, exporter, connector, `extension`

    /// The top-level config section holding components of this kind.
    public var section: String { rawValue + "s" }
}

/// How far along a component is, as the Go collector labels it.
public enum Stability: String, Sendable {
    case development, alpha, beta, stable, deprecated
}

/// `type` or `type/name`, as written in a config.
public struct ComponentID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let type: String
    public let name: String?

    public init(type: String, name: String? = nil) {
        self.type = type
        self.name = name
    }

    public init(parsing text: String) throws(ConfigError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let type = parts[0].trimmingWhitespace
        guard !type.isEmpty, type.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw ConfigError(path: text, message: "invalid component id: the type must be letters, digits or underscores")
        }
        if parts.count == 2 {
            let name = parts[1].trimmingWhitespace
            guard !name.isEmpty else {
                throw ConfigError(path: text, message: "invalid component id: the name after \"/\" must not be empty")
            }
            self.init(type: type, name: name)
        } else {
            self.init(type: type)
        }
    }

    public var description: String { name.map { "\(type)/\($0)" } ?? type }
    public static func < (a: ComponentID, b: ComponentID) -> Bool { a.description < b.description }
}

/// `traces`, `metrics/name`, ...: a pipeline's signal and optional name.
public struct PipelineID: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let signal: Signal
    public let name: String?

    public init(signal: Signal, name: String? = nil) {
        self.signal = signal
        self.name = name
    }

    public init(parsing text: String) throws(ConfigError) {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard let signal = Signal(rawValue: parts[0]) else {
            throw ConfigError(path: text, message: "unknown pipeline signal \"\(parts[0])\": must be traces, metrics or logs")
        }
        self.init(signal: signal, name: parts.count == 2 ? parts[1] : nil)
    }

    public var description: String { name.map { "\(signal)/\($0)" } ?? signal.rawValue }
    public static func < (a: PipelineID, b: PipelineID) -> Bool { a.description < b.description }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}
