/// A configuration problem, located by file and key path (`receivers.otlp.protocols.grpc.endpoint`).
public struct ConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var file: String?
    public var path: String
    public var message: String

    public init(file: String? = nil, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String {
        var text = ""
        if let file { text += "\(file): " }
        if !path.isEmpty { text += "\(path): " }
        return text + message
    }

    /// The same error located under a parent path.
    public func under(_ prefix: String) -> ConfigError {
        var copy = self
        copy.path = path.isEmpty ? prefix : (prefix.isEmpty ? path : "\(prefix).\(path)")
        return copy
    }
}

/// Several configuration problems found in one pass; `validate` prints them all.
public struct ConfigErrors: Error, Sendable, CustomStringConvertible {
    public var errors: [ConfigError]
    public init(_ errors: [ConfigError]) { self.errors = errors }
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

/// Suggests the closest known name for a misspelt key, when one is close enough to be meant.
func closestMatch(to word: String, in candidates: some Sequence<String>) -> String? {
    var best: (String, Int)?
    for candidate in candidates {
        let distance = editDistance(word.lowercased(), candidate.lowercased())
        let limit = candidate.count <= 3 ? 1 : min(3, max(2, candidate.count / 3))
        if distance <= limit, distance < (best?.1 ?? .max) { best = (candidate, distance) }
    }
    return best?.0
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var previous = Array(0...b.count)
    for i in 1...a.count {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return previous[b.count]
}
