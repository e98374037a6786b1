import SwiftProtobuf

/// OTLP/JSON per the OTLP specification: lowerCamelCase member names, enums as integers, 64-bit
/// integers as strings (numbers accepted on input), ids as hex, unknown members ignored.
public enum OTLPJSON {
    static let decodingOptions: JSONDecodingOptions = {
        var options = JSONDecodingOptions()
        options.ignoreUnknownFields = true
        return options
    }()

    static let encodingOptions: JSONEncodingOptions = {
        var options = JSONEncodingOptions()
        options.alwaysPrintEnumsAsInts = true
        options.preserveProtoFieldNames = false
        return options
    }()

    public static func decode(_ signal: Signal, _ json: [UInt8]) throws(OTLPDecodingError) -> OTLPRequest {
        let generic = try JSONIdentifierRewriter.rewrite(json, .hexToBase64)
        do {
            switch signal {
            case .traces:
                return .traces(try ExportTraceServiceRequest(jsonUTF8Bytes: generic, options: decodingOptions))
            case .metrics:
                return .metrics(try ExportMetricsServiceRequest(jsonUTF8Bytes: generic, options: decodingOptions))
            case .logs:
                return .logs(try ExportLogsServiceRequest(jsonUTF8Bytes: generic, options: decodingOptions))
            }
        } catch {
            throw OTLPDecodingError("invalid JSON: \(error)")
        }
    }

    public static func encode(_ request: OTLPRequest) -> [UInt8] {
        let generic: [UInt8]
        switch request {
        case .traces(let r): generic = encodeGeneric(r)
        case .metrics(let r): generic = encodeGeneric(r)
        case .logs(let r): generic = encodeGeneric(r)
        }
        // The input is swift-protobuf's own output, so ids are valid base64.
        return (try? JSONIdentifierRewriter.rewrite(generic, .base64ToHex)) ?? generic
    }

    /// Any message without ids (responses, rpc status) in OTLP/JSON form.
    public static func encodeGeneric(_ message: some SwiftProtobuf.Message) -> [UInt8] {
        (try? message.jsonUTF8Bytes(options: encodingOptions)) ?? Array("{}".utf8)
    }
}
