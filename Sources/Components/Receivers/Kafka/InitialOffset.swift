import Foundation
import Kafka
import Pipeline

/// `initial_offset`: where a partition the group has never committed starts. Beyond the Go
/// collector's `earliest` and `latest`: a point in time, as an RFC 3339 timestamp, epoch
/// milliseconds, or a duration before the partition's assignment (`-1h`, or `1h`), resolved with
/// the broker's offsets-for-times.
public enum InitialOffset: Codable, Sendable, Equatable {
    case earliest
    case latest
    case at(millisecondsSinceEpoch: Int64)
    case ago(ConfigDuration)

    init?(parsing text: String) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        switch trimmed.lowercased() {
        case "earliest": self = .earliest
        case "latest": self = .latest
        default:
            if let milliseconds = Int64(trimmed), milliseconds >= 0 {
                self = .at(millisecondsSinceEpoch: milliseconds)
            } else if let date = Self.timestamp(trimmed) {
                self = .at(millisecondsSinceEpoch: Int64(date.timeIntervalSince1970 * 1000))
            } else if let duration = ConfigDuration(parsing: trimmed), duration.nanoseconds != 0 {
                self = .ago(ConfigDuration(nanoseconds: abs(duration.nanoseconds)))
            } else {
                return nil
            }
        }
    }

    private static func timestamp(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }

    /// Where a partition the group never committed starts.
    var start: KafkaStartPosition {
        switch self {
        case .earliest: .beginning
        case .latest: .end
        case .at(let milliseconds): .time { milliseconds }
        case .ago(let duration): .time { Int64(Date().timeIntervalSince1970 * 1000) - duration.nanoseconds / 1_000_000 }
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = InitialOffset(parsing: text) else {
            throw ConfigError(path: "", message: "invalid initial_offset \"\(text)\": expected earliest, latest, an RFC 3339 time, epoch milliseconds or a duration like -1h")
        }
        self = parsed
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .earliest: try container.encode("earliest")
        case .latest: try container.encode("latest")
        case .at(let milliseconds): try container.encode(String(milliseconds))
        case .ago(let duration): try container.encode("-\(duration)")
        }
    }
}
