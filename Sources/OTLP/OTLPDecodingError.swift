/// Input that is not a valid OTLP request. The message says what is wrong and where, for the client.
public struct OTLPDecodingError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
