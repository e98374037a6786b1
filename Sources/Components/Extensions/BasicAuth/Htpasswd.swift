import Crypto
import Foundation
import Pipeline

/// An htpasswd file's users, as Apache's `htpasswd` writes them: `{SHA}` (`-s`), `$apr1$`
/// MD5-crypt (`-m`, its default) or `$1$`, and plain text (`-p`). bcrypt (`-B`) and SHA-crypt
/// entries are refused when the file is read, naming the line, rather than failing every login.
struct Htpasswd: Sendable {
    enum Hash: Sendable, Equatable {
        case sha1([UInt8])
        case md5Crypt(magic: String, salt: String, encoded: String)
        case plain(String)
    }

    private(set) var users: [String: Hash] = [:]

    /// `origin` names the file (or `htpasswd.inline`) in errors.
    init(_ text: String, origin: String) throws(ConfigError) {
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw ConfigError(path: origin, message: "line \(number + 1) is not user:password")
            }
            let user = String(line[..<colon]), stored = String(line[line.index(after: colon)...])
            users[user] = try Self.hash(stored, line: number + 1, origin: origin)
        }
    }

    private static func hash(_ stored: String, line: Int, origin: String) throws(ConfigError) -> Hash {
        if stored.hasPrefix("{SHA}") {
            guard let digest = Data(base64Encoded: String(stored.dropFirst(5))), digest.count == 20 else {
                throw ConfigError(path: origin, message: "line \(line): the {SHA} hash is not 20 bytes of base64")
            }
            return .sha1(Array(digest))
        }
        for magic in ["$apr1$", "$1$"] where stored.hasPrefix(magic) {
            let parts = stored.dropFirst(magic.count).split(separator: "$", omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw ConfigError(path: origin, message: "line \(line): malformed \(magic) hash") }
            return .md5Crypt(magic: magic, salt: String(parts[0].prefix(8)), encoded: String(parts[1]))
        }
        if ["$2y$", "$2a$", "$2b$", "$5$", "$6$"].contains(where: stored.hasPrefix) {
            throw ConfigError(path: origin, message: "line \(line): bcrypt and SHA-crypt hashes are not supported; write the entry with htpasswd -m (MD5), -s (SHA-1) or -p")
        }
        return .plain(stored)
    }

    func verify(user: String, password: String) -> Bool {
        guard let hash = users[user] else { return false }
        let given = Array(password.utf8)
        switch hash {
        case .sha1(let digest):
            return credentialsEqual(Array(Insecure.SHA1.hash(data: given)), digest)
        case .md5Crypt(let magic, let salt, let encoded):
            return credentialsEqual(Array(Self.md5Crypt(given, magic: magic, salt: salt).utf8), Array(encoded.utf8))
        case .plain(let stored):
            return credentialsEqual(given, Array(stored.utf8))
        }
    }

    /// Poul-Henning Kamp's MD5-crypt, which Apache's `$apr1$` uses with its own magic string: the
    /// encoded hash after the salt.
    static func md5Crypt(_ password: [UInt8], magic: String, salt: String) -> String {
        let salt = Array(salt.utf8), magic = Array(magic.utf8)
        var alternate = Array(Insecure.MD5.hash(data: password + salt + password))
        var context = password + magic + salt
        var remaining = password.count
        while remaining > 0 {
            context += alternate.prefix(min(16, remaining))
            remaining -= 16
        }
        var bits = password.count
        while bits > 0 {
            context.append(bits & 1 == 1 ? 0 : (password.first ?? 0))
            bits >>= 1
        }
        alternate = Array(Insecure.MD5.hash(data: context))
        for round in 0..<1000 {
            var next: [UInt8] = round & 1 == 1 ? password : alternate
            if round % 3 != 0 { next += salt }
            if round % 7 != 0 { next += password }
            next += round & 1 == 1 ? alternate : password
            alternate = Array(Insecure.MD5.hash(data: next))
        }
        let f = alternate.map(UInt32.init)
        var out = ""
        for (a, b, c) in [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)] {
            out += crypt64((f[a] << 16) | (f[b] << 8) | f[c], count: 4)
        }
        return out + crypt64(f[11], count: 2)
    }

    private static let alphabet = Array("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    private static func crypt64(_ value: UInt32, count: Int) -> String {
        var value = value, out = ""
        for _ in 0..<count {
            out.append(alphabet[Int(value & 0x3F)])
            value >>= 6
        }
        return out
    }
}
