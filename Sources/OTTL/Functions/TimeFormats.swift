import Foundation

/// The strptime-style directives OTTL's `Time` and `FormatTime` take, as DateFormatter patterns.
enum OTTLTimeFormat {
    private static let directives: [Character: String] = [
        "Y": "yyyy", "y": "yy", "m": "MM", "o": "M", "d": "dd", "q": "d", "H": "HH", "I": "hh", "M": "mm", "S": "ss",
        "f": "SSSSSS", "L": "SSS", "s": "SSSSSSSSS", "b": "MMM", "h": "MMM", "B": "MMMM", "a": "EEE", "A": "EEEE",
        "p": "a", "j": "DDD", "z": "xx", "Z": "zzz", "c": "EEE MMM d HH:mm:ss yyyy", "D": "MM/dd/yy", "F": "yyyy-MM-dd",
        "T": "HH:mm:ss", "x": "MM/dd/yy", "X": "HH:mm:ss", "%": "%",
    ]

    /// The DateFormatter pattern of a strptime format; nil when it uses a directive not known here.
    static func pattern(_ format: String) -> String? {
        var out = ""
        var literal = ""
        func flushLiteral() {
            guard !literal.isEmpty else { return }
            out += "'" + literal.replacingOccurrences(of: "'", with: "''") + "'"
            literal = ""
        }
        var iterator = format.makeIterator()
        while let character = iterator.next() {
            guard character == "%" else { literal.append(character); continue }
            guard let directive = iterator.next(), let mapped = directives[directive] else { return nil }
            if directive == "%" { literal.append("%"); continue }
            flushLiteral()
            out += mapped
        }
        flushLiteral()
        return out
    }

    static func formatter(_ format: String, location: String?) throws(OTTLRuntimeError) -> DateFormatter {
        guard let pattern = pattern(format) else { throw OTTLRuntimeError("unsupported time format \"\(format)\"") }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = pattern
        guard let zone = TimeZone(identifier: location ?? "UTC") else { throw OTTLRuntimeError("unknown location \"\(location ?? "")\"") }
        formatter.timeZone = zone
        return formatter
    }
}
