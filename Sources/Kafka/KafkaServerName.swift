import COpenSSL
import CRdKafka

extension CallbackContext {
    /// Whether the broker certificate librdkafka shows at `depth` may be accepted: OpenSSL's
    /// verdict on the chain as it is, and at the leaf also the host name check against
    /// `serverName` (librdkafka's own check, which uses the broker's address, is off then).
    func verifyCertificate(broker: String, depth: Int32, x509Error: Int32, der: UnsafeRawBufferPointer) -> (ok: Bool, reason: String?) {
        guard x509Error == 0 else { return (false, nil) }
        guard depth == 0, let serverName else { return (true, nil) }
        guard let base = der.baseAddress?.assumingMemoryBound(to: UInt8.self) else {
            return (false, "the certificate of \(broker) is empty")
        }
        var cursor: UnsafePointer<UInt8>? = base
        guard let certificate = d2i_X509(nil, &cursor, der.count) else {
            return (false, "the certificate of \(broker) cannot be read")
        }
        defer { X509_free(certificate) }
        let matches = serverName.withCString { name in
            X509_check_host(certificate, name, 0, 0, nil) == 1 || X509_check_ip_asc(certificate, name, 0) == 1
        }
        return matches ? (true, nil)
            : (false, "the certificate of \(broker) is not valid for \(serverName) (tls.server_name_override)")
    }
}

let librdkafkaVerifyCertificate: @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int32, UnsafeMutablePointer<Int32>?, Int32,
                                                 UnsafePointer<CChar>?, Int, UnsafeMutablePointer<CChar>?, Int, UnsafeMutableRawPointer?) -> Int32 = {
    _, broker, _, x509Error, depth, buffer, size, errorText, errorSize, opaque in
    guard let opaque, let x509Error else { return 0 }
    let context = Unmanaged<CallbackContext>.fromOpaque(opaque).takeUnretainedValue()
    let (ok, reason) = context.verifyCertificate(broker: broker.map { String(cString: $0) } ?? "the broker", depth: depth,
                                                 x509Error: x509Error.pointee, der: UnsafeRawBufferPointer(start: buffer, count: buffer == nil ? 0 : size))
    if let reason, let errorText, errorSize > 0 {
        // librdkafka reports this text with the failed handshake.
        let bytes = Array(reason.utf8.prefix(errorSize - 1))
        for (index, byte) in bytes.enumerated() { errorText[index] = CChar(bitPattern: byte) }
        errorText[bytes.count] = 0
    }
    if !ok, x509Error.pointee == 0 { x509Error.pointee = 62 } // X509_V_ERR_HOSTNAME_MISMATCH
    return ok ? 1 : 0
}
