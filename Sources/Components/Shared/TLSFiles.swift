import NIOSSL
import Pipeline

/// Reading configtls's certificates, keys and version names for the client and server blocks:
/// every problem is a config error naming the key it came from.
enum TLSFiles {
    static func certificates(_ file: String, key path: String) throws(ConfigError) -> [NIOSSLCertificate] {
        try read(path, file) { try NIOSSLCertificate.fromPEMFile(file) }
    }

    static func privateKey(_ file: String, key path: String) throws(ConfigError) -> NIOSSLPrivateKey {
        try read(path, file) { try NIOSSLPrivateKey(file: file, format: .pem) }
    }

    /// Certificates or a key given either as a file (`<name>_file`) or as PEM text
    /// (`<name>_pem`), exactly one of them.
    static func fileOrPEM<Loaded>(_ name: String, file: String, pem: String, below path: String, missing: String,
                                  fromFile: (String) throws -> Loaded, fromPEM: ([UInt8]) throws -> Loaded) throws(ConfigError) -> Loaded {
        switch (file.isEmpty, pem.isEmpty) {
        case (true, true): throw ConfigError(path: "\(path).\(name)_file", message: missing)
        case (false, false): throw ConfigError(path: "\(path).\(name)_pem", message: "cannot be combined with \(name)_file")
        case (false, true): return try read("\(path).\(name)_file", file) { try fromFile(file) }
        case (true, false): return try read("\(path).\(name)_pem", "the PEM text") { try fromPEM(Array(pem.utf8)) }
        }
    }

    static func version(_ text: String, key path: String) throws(ConfigError) -> TLSVersion? {
        switch text {
        case "": nil
        case "1.0": .tlsv1
        case "1.1": .tlsv11
        case "1.2": .tlsv12
        case "1.3": .tlsv13
        default: throw ConfigError(path: path, message: "must be one of 1.0, 1.1, 1.2, 1.3, got \"\(text)\"")
        }
    }

    private static func read<Loaded>(_ path: String, _ source: String, _ load: () throws -> Loaded) throws(ConfigError) -> Loaded {
        do { return try load() } catch {
            throw ConfigError(path: path, message: "cannot read \(source): \(error)")
        }
    }
}
