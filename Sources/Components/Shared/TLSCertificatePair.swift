import COpenSSL
import Foundation
import Pipeline

/// A client certificate and its key, checked as the TLS libraries will use them (with the system
/// OpenSSL, which librdkafka uses too): both readable as PEM, the key belonging to the
/// certificate, and the certificate valid now. Each problem is a config error naming the key.
struct TLSCertificatePair {
    struct Part {
        var key: String
        var source: String
        var pem: [UInt8]
    }

    static func check(certificate: Part, privateKey: Part) throws(ConfigError) {
        guard let x509 = read(certificate.pem, { PEM_read_bio_X509($0, nil, nil, nil) }) else {
            throw ConfigError(path: certificate.key, message: "no PEM certificate in \(certificate.source)")
        }
        defer { X509_free(x509) }
        // No password callback: OpenSSL would otherwise ask on the terminal for an encrypted key.
        guard let pkey = read(privateKey.pem, { PEM_read_bio_PrivateKey($0, nil, { _, _, _, _ in 0 }, nil) }) else {
            throw ConfigError(path: privateKey.key, message: "no PEM private key in \(privateKey.source) (keys protected by a password are not supported)")
        }
        defer { EVP_PKEY_free(pkey) }
        guard X509_check_private_key(x509, pkey) == 1 else {
            ERR_clear_error()
            throw ConfigError(path: privateKey.key, message: "the key in \(privateKey.source) does not belong to the certificate in \(certificate.source)")
        }
        if X509_cmp_current_time(X509_get0_notAfter(x509)) < 0 {
            throw ConfigError(path: certificate.key, message: "the certificate in \(certificate.source) expired on \(text(X509_get0_notAfter(x509)))")
        }
        if X509_cmp_current_time(X509_get0_notBefore(x509)) > 0 {
            throw ConfigError(path: certificate.key, message: "the certificate in \(certificate.source) is not valid before \(text(X509_get0_notBefore(x509)))")
        }
    }

    private static func read<T>(_ pem: [UInt8], _ parse: (OpaquePointer) -> T?) -> T? {
        pem.withUnsafeBytes { bytes -> T? in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            let parsed = parse(bio)
            if parsed == nil { ERR_clear_error() }
            return parsed
        }
    }

    /// An ASN.1 time as OpenSSL prints it ("Jan  2 03:04:05 2026 GMT").
    private static func text(_ time: UnsafePointer<ASN1_TIME>?) -> String {
        guard let time, let bio = BIO_new(BIO_s_mem()) else { return "?" }
        defer { BIO_free(bio) }
        guard ASN1_TIME_print(bio, time) == 1 else { return "?" }
        var buffer = [CChar](repeating: 0, count: 64)
        let count = BIO_read(bio, &buffer, Int32(buffer.count - 1))
        return count > 0 ? String(decoding: buffer.prefix(Int(count)).map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
}
