import Pipeline

extension MemoryLimiterProcessor {
    public static let factory = ProcessorFactory(type: "memory_limiter", stability: .beta, config: MemoryLimiterConfig.self) { settings, config, _, next in
        // One checker per component id, shared by every pipeline that uses it, as in the Go collector.
        let monitor = settings.shared.instance(for: "memory_limiter/\(settings.id)") {
            MemoryMonitor(config: config, logger: settings.logger)
        }
        return MemoryLimiterProcessor(settings: settings, monitor: monitor, next: next)
    }
}
