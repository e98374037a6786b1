import Foundation
import Logging
import Synchronization

/// The last error lines any component logged, for the status page: a handler beside the one
/// that writes the log keeps them, newest last.
public final class RecentErrors: Sendable {
    public struct Entry: Sendable {
        public let time: Date
        public let source: String
        public let message: String
    }

    private let entries = Mutex<[Entry]>([])
    private let limit: Int

    public init(limit: Int = 50) { self.limit = limit }

    public var all: [Entry] { entries.withLock { $0 } }

    func append(_ entry: Entry) {
        entries.withLock { entries in
            entries.append(entry)
            if entries.count > limit { entries.removeFirst(entries.count - limit) }
        }
    }

    /// A log handler keeping `error` and `critical` lines here.
    struct Handler: LogHandler {
        let store: RecentErrors
        let label: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            guard event.level >= .error else { return }
            store.append(Entry(time: Date(), source: label, message: "\(event.message)"))
        }
    }
}
