import GRPCCore

/// Passes message bytes through grpc-swift untouched, for the OTLP gRPC clients (the exporter and
/// telemetrygen): requests are encoded once, by whoever built them.
public struct RawBytes: MessageSerializer, MessageDeserializer {
    public init() {}
    public func serialize<Bytes: GRPCContiguousBytes>(_ message: [UInt8]) throws -> Bytes { Bytes(message) }
    public func deserialize<Bytes: GRPCContiguousBytes>(_ serializedMessageBytes: Bytes) throws -> [UInt8] {
        serializedMessageBytes.withUnsafeBytes { Array($0) }
    }
}
