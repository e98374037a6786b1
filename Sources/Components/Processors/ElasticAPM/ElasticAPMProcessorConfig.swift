import Pipeline

/// `processors.elasticapm`: the keys and defaults of Elastic's processor (formerly
/// `elastictrace`). Each enrichment is a `<group>.<field>.enabled` switch, as there.
///
/// Only the default enricher exists here, the one Elastic's self-managed gateway runs; the ECS
/// path (taken there for requests whose client metadata says `x-elastic-mapping-mode: ecs`)
/// does not, so its keys are accepted and named in a warning.
public struct ElasticAPMProcessorConfig: ComponentConfig {
    /// One enrichment's switch.
    public struct Switch: ConfigSection, Equatable {
        public var enabled: Bool
        public init() { enabled = true }
        init(_ enabled: Bool) { self.enabled = enabled }
        static let off = Switch(false)
    }

    public struct ResourceSwitches: ConfigSection {
        public var agent_name = Switch()
        public var agent_version = Switch()
        public var override_host_name = Switch()
        public var deployment_environment = Switch()
        public var service_instance_id = Switch()
        public var default_deployment_environment = Switch.off
        public var default_service_language = Switch.off
        public var host_os_type = Switch.off
        public init() {}
    }

    public struct ScopeSwitches: ConfigSection {
        public var service_framework_name = Switch()
        /// Read with the name, as Elastic's processor does: the version goes wherever the name goes.
        public var service_framework_version = Switch()
        public init() {}
    }

    public struct TransactionSwitches: ConfigSection {
        public var timestamp_us = Switch()
        public var sampled = Switch()
        public var id = Switch()
        public var clear_span_id = Switch.off
        public var root = Switch()
        public var name = Switch()
        public var clear_span_name = Switch.off
        public var processor_event = Switch()
        public var representative_count = Switch()
        public var duration_us = Switch()
        public var type = Switch()
        public var result = Switch()
        public var event_outcome = Switch()
        public var inferred_spans = Switch()
        public var remove_messaging = Switch()
        public var message_queue_name = Switch()
        public init() {}
    }

    public struct SpanSwitches: ConfigSection {
        public var timestamp_us = Switch()
        public var processor_event = Switch()
        public var representative_count = Switch()
        public var action = Switch()
        public var type_subtype = Switch()
        public var duration_us = Switch()
        public var event_outcome = Switch()
        public var service_target = Switch()
        public var destination_service = Switch()
        public var inferred_spans = Switch()
        public var remove_messaging = Switch()
        public var message_queue_name = Switch()
        public init() {}
    }

    public struct SpanEventSwitches: ConfigSection {
        public var timestamp_us = Switch()
        public var transaction_sampled = Switch()
        public var transaction_type = Switch()
        public var processor_event = Switch()
        public var error_id = Switch()
        public var error_grouping_key = Switch()
        public var error_grouping_name = Switch()
        public var error_exception_handled = Switch()
        public init() {}
    }

    public struct MetricSwitches: ConfigSection {
        public var processor_event = Switch.off
        public var metricset_name = Switch()
        public init() {}
    }

    /// When set, logs and metrics pass unchanged (Elastic's processor then enriches them only
    /// in ECS mode, which this one has not); traces are enriched either way.
    public var skip_enrichment = false
    public var resource = ResourceSwitches()
    public var scope = ScopeSwitches()
    public var elastic_transaction = TransactionSwitches()
    public var elastic_span = SpanSwitches()
    public var span_event = SpanEventSwitches()
    public var elastic_metric = MetricSwitches()

    public init() {}

    public func validate() throws(ConfigError) {}

    public func warnings() -> [String] {
        scope.service_framework_version.enabled ? [] : [
            "scope.service_framework_version.enabled: false has no effect: the version is written with the name (scope.service_framework_name), as in Elastic's processor",
        ]
    }

    public static let inertKeys: [InertKey] = [
        InertKey("service_name_in_datastream_dataset", "only the ECS path routes by data stream, and it is not implemented"),
        InertKey("host_ip_enabled", "only the ECS path sets host.ip, and it is not implemented"),
        InertKey("resource.service_name", "service names are not cleaned (an ECS-path enrichment)"),
        InertKey("elastic_transaction.user_agent", "user_agent.name and user_agent.version are not parsed from user_agent.original"),
        InertKey("elastic_span.user_agent", "user_agent.name and user_agent.version are not parsed from user_agent.original"),
        InertKey("span_event.error_exception_type", "Elastic's span-event enrichment does not read it either"),
        InertKey("span_event.error_exception_message", "Elastic's span-event enrichment does not read it either"),
        InertKey("span_event.error_stack_trace", "Elastic's span-event enrichment does not read it either"),
        InertKey("span_event.error_type", "Elastic's span-event enrichment does not read it either"),
        InertKey("elastic_log", "log records get the resource and scope enrichments only"),
        InertKey("elastic_metric.translate_unsupported_attributes", "an ECS-path enrichment"),
    ]
}
