import Crypto
import Foundation

/// AWS Signature Version 4 (AWS4-HMAC-SHA256): the canonical request, the string to sign and
/// the signing key as AWS specifies them, for a request signed in its headers or presigned in
/// its query (the form an MSK IAM token takes).
struct SigV4 {
    let credentials: AWSCredentials
    let region: String
    let service: String

    /// A request to sign: `query` as decoded (name, value) pairs, `headers` with their names as
    /// given (they are lowercased and sorted for signing).
    struct Request {
        var method = "GET"
        var path = "/"
        var query: [(String, String)] = []
        var headers: [(String, String)] = []
        /// Hex SHA-256 of the body; the empty body's by default.
        var payloadHash = SigV4.hexSHA256(Data())
    }

    /// The `Authorization` header for `request` (which must carry `Host` and `X-Amz-Date`).
    func authorization(_ request: Request, at date: Date) -> String {
        let (signedHeaders, signature) = sign(request, at: date)
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope(date)), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    /// The query of `request` presigned for `expires` seconds from `date`, signing only the
    /// `host` header: the request's own parameters, then the X-Amz parameters in the order AWS's
    /// SDKs write them, the signature last. Pairs are decoded; `Self.encode` writes them.
    func presignedQuery(_ request: Request, host: String, expires: Int, at date: Date) -> [(String, String)] {
        var query = request.query
        query.append(("X-Amz-Algorithm", "AWS4-HMAC-SHA256"))
        query.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope(date))"))
        query.append(("X-Amz-Date", Self.timestamp(date)))
        query.append(("X-Amz-Expires", String(expires)))
        query.append(("X-Amz-SignedHeaders", "host"))
        if let token = credentials.sessionToken, !token.isEmpty { query.append(("X-Amz-Security-Token", token)) }
        var signed = request
        signed.query = query
        signed.headers = [("host", host)]
        query.append(("X-Amz-Signature", sign(signed, at: date).signature))
        return query
    }

    private func scope(_ date: Date) -> String { "\(Self.day(date))/\(region)/\(service)/aws4_request" }

    private func sign(_ request: Request, at date: Date) -> (signedHeaders: String, signature: String) {
        var headers: [String: String] = [:]
        for (name, value) in request.headers {
            let folded = value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0),\(folded)" } ?? folded
        }
        let names = headers.keys.sorted()
        let signedHeaders = names.joined(separator: ";")
        let encoded: [(name: String, value: String)] = request.query.map { (Self.encode($0.0), Self.encode($0.1)) }
        let sorted = encoded.sorted { $0.name == $1.name ? $0.value < $1.value : $0.name < $1.name }
        let canonicalQuery = sorted.map { "\($0.name)=\($0.value)" }.joined(separator: "&")
        let canonicalHeaders = names.map { name -> String in "\(name):\(headers[name] ?? "")\n" }.joined()
        let canonical = [request.method, Self.canonicalPath(request.path), canonicalQuery,
                         canonicalHeaders, signedHeaders, request.payloadHash].joined(separator: "\n")
        let toSign = ["AWS4-HMAC-SHA256", Self.timestamp(date), scope(date), Self.hexSHA256(Data(canonical.utf8))].joined(separator: "\n")
        var key = SymmetricKey(data: Data("AWS4\(credentials.secretAccessKey)".utf8))
        for part in [Self.day(date), region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        let signature = HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key)
        return (signedHeaders, Self.hex(Data(signature)))
    }

    /// Each path segment URI-encoded once (services other than S3 normalise `.` and `..` too,
    /// which the paths signed here never hold).
    private static func canonicalPath(_ path: String) -> String {
        path.isEmpty ? "/" : path.split(separator: "/", omittingEmptySubsequences: false).map { encode(String($0)) }.joined(separator: "/")
    }

    static func encode(_ text: String) -> String { PercentEncoding.unreserved(text) }

    static func hexSHA256(_ data: Data) -> String { hex(Data(SHA256.hash(data: data))) }

    private static func hex(_ data: Data) -> String { data.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }

    /// `yyyyMMdd'T'HHmmss'Z'` in UTC.
    static func timestamp(_ date: Date) -> String {
        let c = Calendar.utc.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0, c.second ?? 0)
    }

    private static func day(_ date: Date) -> String { String(timestamp(date).prefix(8)) }
}

extension Calendar {
    static let utc: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC") ?? TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        return calendar
    }()
}
