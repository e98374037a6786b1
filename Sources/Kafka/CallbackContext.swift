import CRdKafka
import Foundation
import Logging
import Synchronization

/// What librdkafka's callbacks reach through the handle's opaque pointer: the collector's logger,
/// the owner's statistics and rebalance hooks, and the client's authentication hooks.
final class CallbackContext: Sendable {
    let logger: Logger
    let onStatistics: (@Sendable (KafkaStatistics) -> Void)?
    let beforeRevoke: (@Sendable ([(topic: String, partition: Int32)]) -> Void)?
    let start: KafkaStartPosition
    let onRetentionLoss: (@Sendable (KafkaRetentionLoss) -> Void)?
    /// Where SASL/OAUTHBEARER tokens come from, when the client authenticates with them.
    let tokenSource: KafkaTokenSource?
    /// How the client authenticates (mechanism and user, never a secret), for errors.
    let authentication: String?
    /// What the broker said when it last refused the client's authentication; cleared by the
    /// next delivery.
    let authenticationFailure = Mutex<String?>(nil)
    let onAuthenticationFailure: (@Sendable () -> Void)?
    /// `KafkaClientConfig.serverName`.
    let serverName: String?
    /// Partitions revoked while a poll run gathers records (the run empties it first): records it
    /// took of them before the revoke must be left to their next owner, which may be this
    /// consumer again, starting from the committed offset.
    let revokedDuringRun = Mutex<[(topic: String, partition: Int32)]>([])

    init(logger: Logger, onStatistics: (@Sendable (KafkaStatistics) -> Void)? = nil,
         beforeRevoke: (@Sendable ([(topic: String, partition: Int32)]) -> Void)? = nil,
         start: KafkaStartPosition = .beginning, onRetentionLoss: (@Sendable (KafkaRetentionLoss) -> Void)? = nil,
         client: KafkaClientConfig = KafkaClientConfig()) {
        self.logger = logger
        tokenSource = client.tokenSource
        authentication = client.authentication
        onAuthenticationFailure = client.onAuthenticationFailure
        serverName = client.serverName
        self.onStatistics = onStatistics
        self.beforeRevoke = beforeRevoke
        self.start = start
        self.onRetentionLoss = onRetentionLoss
    }

    /// Lines logged lately, by their text with numbers left out: librdkafka repeats a failing
    /// connection's error on every reconnect, which would bury everything else in the log.
    let repeats = Mutex(LogRepeats())

    func log(level: Int32, facility: UnsafePointer<CChar>?, text: UnsafePointer<CChar>?) {
        log(level: level, "librdkafka \(facility.map { String(cString: $0) } ?? ""): \(text.map { String(cString: $0) } ?? "")")
    }

    /// A client-wide error librdkafka reports (its error callback): a refused authentication is
    /// said in words that name how the client authenticates and is kept for the delivery errors
    /// it causes; others are logged as librdkafka logs them without the callback.
    func error(_ code: rd_kafka_resp_err_t, reason: String) {
        guard code == RD_KAFKA_RESP_ERR__AUTHENTICATION else { return log(level: 3, "librdkafka ERROR: \(reason)") }
        // librdkafka reports a token it could not get the same way as a refused login.
        let refused = reason.hasPrefix("Failed to acquire")
            ? "cannot authenticate\(authentication.map { " with \($0)" } ?? ""): \(reason)"
            : "the broker refused authentication\(authentication.map { " with \($0)" } ?? ""): \(reason)"
        authenticationFailure.withLock { $0 = refused }
        onAuthenticationFailure?()
        log(level: 3, "\(refused); records wait (they are not lost) until the credentials are fixed")
    }

    func log(level: Int32, _ text: String) {
        var line = text
        guard level <= 6 else { return logger.debug("\(line)") }
        guard let suppressed = repeats.withLock({ $0.admit(line, now: .now) }) else { return }
        if suppressed > 0 { line += " (\(suppressed) more like this in the last \(LogRepeats.window) not shown)" }
        switch level {
        case ...3: logger.error("\(line)")
        case 4: logger.warning("\(line)")
        case 5, 6: logger.info("\(line)")
        default: logger.debug("\(line)")
        }
    }
}

let librdkafkaLog: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { rk, level, facility, text in
    guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
    Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue().log(level: level, facility: facility, text: text)
}

let librdkafkaError: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { _, code, reason, opaque in
    guard let opaque else { return }
    Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
        .error(rd_kafka_resp_err_t(rawValue: code), reason: reason.map { String(cString: $0) } ?? "")
}

let librdkafkaStatistics: @convention(c) (OpaquePointer?, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = { _, json, length, opaque in
    guard let json, let opaque else { return 0 }
    let sink = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    let data = Data(bytes: json, count: length)
    if let statistics = KafkaStatistics(json: data) { sink.onStatistics?(statistics) }
    return 0 // librdkafka frees the JSON
}

/// Admits a line once per `window` for each shape of text (its digits left out), counting the
/// ones it holds back so the next admitted one can say how many there were.
struct LogRepeats {
    static let window: Duration = .seconds(60)
    private var seen: [String: (since: ContinuousClock.Instant, suppressed: Int)] = [:]

    /// nil when the line is held back; else how many like it were held back before it.
    mutating func admit(_ line: String, now: ContinuousClock.Instant) -> Int? {
        let shape = String(line.unicodeScalars.filter { !("0"..."9").contains($0) })
        if let entry = seen[shape], now - entry.since < Self.window {
            seen[shape]?.suppressed += 1
            return nil
        }
        if seen.count > 1000 { seen.removeAll() }
        let suppressed = seen[shape]?.suppressed ?? 0
        seen[shape] = (now, 0)
        return suppressed
    }
}
