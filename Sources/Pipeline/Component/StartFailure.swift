import Foundation
import NIOCore

/// A component that could not start because of what one config key names: an address that
/// cannot be bound, a file or directory that cannot be opened. The collector puts the component
/// in front of `key`, so the message names the key as the user wrote it
/// (`receivers.otlp.protocols.http.endpoint: cannot listen on 127.0.0.1:4318: …`).
public struct StartFailure: Error, CustomStringConvertible {
    public let key: String
    public let message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }

    public static func listen(key: String, address: String, cause: any Error) -> StartFailure {
        StartFailure(key: key, message: "cannot listen on \(address): \(reason(cause))")
    }

    /// Binds through `bind`, its failure named by `key` and the address.
    public static func binding<T>(key: String, host: String, port: Int, _ bind: () async throws -> T) async throws -> T {
        do {
            return try await bind()
        } catch {
            throw listen(key: key, address: "\(host):\(port)", cause: error)
        }
    }

    /// NIO's socket errors name the system call; the user needs the errno's meaning, and for the
    /// usual ones a hint.
    static func reason(_ error: any Error) -> String {
        guard let io = error as? IOError else { return "\(error)" }
        let text = String(cString: strerror(io.errnoCode)).lowercased()
        switch io.errnoCode {
        case EADDRINUSE: return "\(text); another process (another collector?) is listening there"
        case EACCES: return "\(text); ports below 1024 need privileges"
        case EADDRNOTAVAIL: return "\(text); the host is not an address of this machine"
        default: return text
        }
    }
}
