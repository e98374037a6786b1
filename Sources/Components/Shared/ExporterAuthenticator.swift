import OTLP
import Pipeline

/// An exporter's `auth.authenticator`: found when the exporter starts (extensions start before
/// exporters), then asked for each request's headers.
final class ExporterAuthenticator: Sendable {
    private let settings: AuthSettings?
    private let found = MutexBox<any ClientAuthenticator>(nil)

    init(_ settings: AuthSettings?) { self.settings = settings }

    func start(host: ComponentHost) throws(StartFailure) {
        guard let settings else { return }
        found.set(try host.clientAuthenticator(settings, key: "auth.authenticator"))
    }

    /// The `fixed` headers with the authenticator's changes, for data received with `metadata`.
    func headers(_ fixed: [(name: String, value: String)], for metadata: RequestMetadata) async throws -> RequestHeaders {
        var headers = RequestHeaders(fixed)
        try await found.get()?.apply(to: &headers, for: metadata)
        return headers
    }
}

extension AuthSettings {
    /// `auth.authenticator` as an exporter config's extension reference.
    static func references(_ auth: AuthSettings?) -> [(key: String, name: String)] {
        auth.map { [("auth.authenticator", $0.authenticator)] } ?? []
    }

    static func check(_ auth: AuthSettings?) throws(ConfigError) {
        if let auth, auth.authenticator.isEmpty { throw ConfigError(path: "auth.authenticator", message: "is required") }
    }
}
