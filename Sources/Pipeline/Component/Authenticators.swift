import OTLP

/// `auth:` of a receiver's protocol or of an exporter: the id of an authenticator extension, as
/// the Go collector's configauth spells it.
public struct AuthSettings: ConfigSection {
    public var authenticator = ""
    public init() {}
}

/// An extension that decides whether a request's headers say who sent it (Go's `auth.Server`).
public protocol ServerAuthenticator: CollectorExtension {
    /// nil when the request may go on; else why not, in words that never repeat the credentials.
    func authenticate(_ headers: RequestHeaders) -> String?
}

/// An extension that puts credentials or other headers on outgoing requests (Go's `auth.Client`).
public protocol ClientAuthenticator: CollectorExtension {
    /// Changes the headers of a request that carries data received with `metadata`; throws
    /// (a `PipelineError`) when the credentials cannot be had now, so the request is not sent.
    func apply(to headers: inout RequestHeaders, for metadata: RequestMetadata) async throws
}

/// A request's headers, names compared without regard to case (as HTTP and gRPC metadata do).
public struct RequestHeaders: Sendable, Equatable {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    public static func == (a: RequestHeaders, b: RequestHeaders) -> Bool {
        a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    public func first(_ name: String) -> String? {
        fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    public func contains(_ name: String) -> Bool { first(name) != nil }

    public mutating func add(_ name: String, _ value: String) { fields.append((name, value)) }

    /// Replaces every value of `name` with `value`.
    public mutating func set(_ name: String, _ value: String) {
        remove(name)
        fields.append((name, value))
    }

    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.caseInsensitiveEquals(name) }
    }
}

/// Compares credentials in time that depends only on their lengths, so the time a refusal takes
/// does not tell how much of a guess was right.
public func credentialsEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    var difference = a.count ^ b.count
    for index in 0..<max(a.count, b.count) {
        difference |= Int((index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0))
    }
    return difference == 0
}

extension String {
    /// ASCII case folded byte by byte: header names are ASCII, and this runs per request.
    fileprivate func caseInsensitiveEquals(_ other: String) -> Bool {
        guard utf8.count == other.utf8.count else { return false }
        return zip(utf8, other.utf8).allSatisfy { a, b in a == b || (a | 0x20 == b | 0x20 && (0x61...0x7A).contains(a | 0x20)) }
    }
}

extension ComponentHost {
    /// The server authenticator `settings` names, or the start failure that says why there is none.
    public func serverAuthenticator(_ settings: AuthSettings, key: String) throws(StartFailure) -> any ServerAuthenticator {
        try authenticator(settings, key: key, as: (any ServerAuthenticator).self, role: "authenticate incoming requests")
    }

    /// The client authenticator `settings` names, or the start failure that says why there is none.
    public func clientAuthenticator(_ settings: AuthSettings, key: String) throws(StartFailure) -> any ClientAuthenticator {
        try authenticator(settings, key: key, as: (any ClientAuthenticator).self, role: "add credentials to outgoing requests")
    }

    private func authenticator<A>(_ settings: AuthSettings, key: String, as type: A.Type, role: String) throws(StartFailure) -> A {
        guard let found = self.extension(named: settings.authenticator) else {
            throw StartFailure(key: key, message: "names extension \"\(settings.authenticator)\", which is not running (configure it and list it in service.extensions)")
        }
        guard let authenticator = found as? A else {
            throw StartFailure(key: key, message: "extension \"\(settings.authenticator)\" cannot \(role)")
        }
        return authenticator
    }
}
