import Foundation
import Logging
import OTLP
import Pipeline

/// `bearertokenauth`: a static token, or tokens from a file that is read again when it changes.
/// Tokens are never logged: failures say what was wrong, not what was sent.
public final class BearerTokenAuthExtension: ServerAuthenticator, ClientAuthenticator {
    public static let factory = ExtensionFactory(type: "bearertokenauth", stability: .beta, config: BearerTokenAuthConfig.self) { settings, config in
        BearerTokenAuthExtension(settings: settings, config: config)
    }

    private let settings: ComponentSettings
    private let config: BearerTokenAuthConfig
    /// The accepted header values, and the token file's content they came from.
    private let current: MutexBox<(values: [[UInt8]], file: Data?)>
    private let watcher = MutexBox<Task<Void, Never>>(nil)

    init(settings: ComponentSettings, config: BearerTokenAuthConfig) {
        self.settings = settings
        self.config = config
        let tokens = config.tokens.isEmpty ? [config.token] : config.tokens
        current = MutexBox((config.values(tokens).map { Array($0.utf8) }, nil))
    }

    public func start() async throws {
        guard !config.filename.isEmpty else { return }
        try reload()
        let poll = Task { [weak self] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                guard let self else { return }
                do { try self.reload() } catch {
                    self.settings.logger.error("cannot read the token file; the tokens read before stay in use: \(error)")
                }
            }
        }
        watcher.set(poll)
    }

    public func shutdown() async {
        watcher.take()?.cancel()
    }

    /// Reads the token file, and takes its tokens when its content changed (modification times
    /// have whole seconds here, and a token rotated twice in one second must not be missed).
    private func reload() throws(StartFailure) {
        let path = config.filename
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StartFailure(key: "filename", message: "cannot read \(path)")
        }
        if current.get()?.file == data { return }
        let tokens = String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !tokens.isEmpty else { throw StartFailure(key: "filename", message: "\(path) holds no token") }
        let hadTokens = current.get()?.file != nil
        current.set((config.values(tokens).map { Array($0.utf8) }, data))
        if hadTokens { settings.logger.info("bearer tokens read again from \(path) (\(tokens.count))") }
    }

    public func authenticate(_ headers: RequestHeaders) -> String? {
        guard let sent = headers.first(config.header) else { return "no \(config.header) header" }
        let bytes = Array(sent.utf8)
        let accepted = current.get()?.values ?? []
        // Every candidate is compared in full, so the time taken does not tell how much matched.
        var matched = false
        for value in accepted where credentialsEqual(bytes, value) { matched = true }
        return matched ? nil : "the \(config.header) header does not hold an accepted token"
    }

    public func apply(to headers: inout RequestHeaders, for metadata: RequestMetadata) {
        guard let first = current.get()?.values.first else { return }
        headers.set(config.header, String(decoding: first, as: UTF8.self))
    }
}
