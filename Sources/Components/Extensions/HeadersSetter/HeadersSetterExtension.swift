import OTLP
import Pipeline

public final class HeadersSetterExtension: ClientAuthenticator {
    public static let factory = ExtensionFactory(type: "headers_setter", stability: .beta, config: HeadersSetterConfig.self) { _, config in
        HeadersSetterExtension(config: config)
    }

    private let headers: [HeadersSetterConfig.Header]

    init(config: HeadersSetterConfig) { headers = config.headers }

    public func start() async throws {}
    public func shutdown() async {}

    public func apply(to request: inout RequestHeaders, for metadata: RequestMetadata) {
        for header in headers {
            if header.action == .delete {
                request.remove(header.key)
                continue
            }
            let value = header.value ?? header.from_context.flatMap { metadata.headers[$0.lowercased()]?.first } ?? header.default_value
            guard let value else { continue }
            let present = request.contains(header.key)
            switch header.action {
            case .insert where !present, .update where present, .upsert: request.set(header.key, value)
            default: break
            }
        }
    }
}
