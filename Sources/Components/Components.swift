import Pipeline

/// Every component this binary ships. Adding a component is one line here.
public enum Components {
    public static let registry: ComponentRegistry = {
        var registry = ComponentRegistry()
        registry.register(OTLPReceiver.factory)
        registry.register(KafkaReceiver.factory)
        registry.register(BatchProcessor.factory)
        registry.register(MemoryLimiterProcessor.factory)
        registry.register(FilterProcessor.factory)
        registry.register(TransformProcessor.factory)
        registry.register(AttributesProcessor.factory)
        registry.register(ResourceProcessor.factory)
        registry.register(TailSamplingProcessor.factory)
        registry.register(ElasticAPMProcessor.factory)
        registry.register(DebugExporter.factory)
        registry.register(FileExporter.factory)
        registry.register(KafkaExporter.factory)
        registry.register(OTLPHTTPExporter.factory)
        registry.register(OTLPGRPCExporter.factory)
        registry.register(ElasticsearchExporter.factory)
        registry.alias(exporter: "otlp_http", of: "otlphttp")
        // The Go collector's current name for the OTLP/gRPC exporter; `otlp` stays for older configs.
        registry.alias(exporter: "otlp_grpc", of: "otlp")
        registry.register(HealthCheckExtension.factory)
        registry.register(EmbeddedKafkaExtension.factory)
        registry.register(FileStorageExtension.factory)
        registry.register(BearerTokenAuthExtension.factory)
        registry.register(BasicAuthExtension.factory)
        registry.register(HeadersSetterExtension.factory)
        registry.register(OAuth2ClientExtension.factory)
        registry.register(ForwardConnector.factory)
        registry.register(ElasticAPMConnector.factory)
        registry.register(ZPagesExtension.factory)
        return registry
    }()
}
