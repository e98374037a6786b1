import Pipeline

extension BatchProcessor {
    public static let factory = ProcessorFactory(type: "batch", stability: .beta, config: BatchConfig.self) { settings, config, signal, next in
        BatchProcessor(settings: settings, config: config, signal: signal, next: next)
    }
}
