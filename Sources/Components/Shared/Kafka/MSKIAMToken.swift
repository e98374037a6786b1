import Foundation
import Kafka

/// The SASL/OAUTHBEARER token of AWS MSK's IAM access control, as AWS's aws-msk-iam-sasl-signer
/// libraries make it: a `GET https://kafka.<region>.amazonaws.com/?Action=kafka-cluster:Connect`
/// presigned with SigV4 for the `kafka-cluster` service for 15 minutes, a `User-Agent` parameter
/// added after signing, the URL base64url-encoded without padding.
enum MSKIAMToken {
    static let lifetimeSeconds = 900

    static func make(region: String, credentials: AWSCredentials, at date: Date, userAgent: String = "otelcol-swift") -> KafkaBearerToken {
        let host = "kafka.\(region).amazonaws.com"
        let signer = SigV4(credentials: credentials, region: region, service: "kafka-cluster")
        var query = signer.presignedQuery(SigV4.Request(query: [("Action", "kafka-cluster:Connect")]), host: host,
                                          expires: lifetimeSeconds, at: date)
        query.append(("User-Agent", userAgent))
        let url = "https://\(host)/?" + query.map { "\(SigV4.encode($0.0))=\(SigV4.encode($0.1))" }.joined(separator: "&")
        let token = Data(url.utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        // The signing time in whole seconds, as the signature carries it.
        let signed = Int64(date.timeIntervalSince1970.rounded(.down))
        return KafkaBearerToken(value: token, expiresAtMilliseconds: (signed + Int64(lifetimeSeconds)) * 1000,
                                principal: credentials.accessKeyID)
    }

    /// Tokens for `region` signed with what `chain` finds, each time librdkafka asks.
    static func source(region: String, chain: AWSCredentialChain) -> KafkaTokenSource {
        return { make(region: region, credentials: try chain.resolve(), at: Date()) }
    }
}
