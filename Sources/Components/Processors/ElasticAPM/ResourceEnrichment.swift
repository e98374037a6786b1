import OTLP

/// The `elasticapm` processor's resource and scope rules: the agent Kibana shows, the
/// environment under the key its alias reads, the instance, and the framework from the scope.
struct ResourceEnrichment: Sendable {
    let resource: ElasticAPMProcessorConfig.ResourceSwitches
    let scope: ElasticAPMProcessorConfig.ScopeSwitches

    func enrich(_ attributes: inout [KeyValue]) {
        var hostName = "", k8sNodeName = "", sdkName = "", sdkLanguage = "", sdkVersion = ""
        var distroName = "", distroVersion = "", environment = "", environmentName = "", containerID = ""
        var osType = "", osName = ""
        for entry in attributes {
            let value = entry.value.stringOrEmpty
            switch entry.key {
            case "host.name": hostName = value
            case "k8s.node.name": k8sNodeName = value
            case "telemetry.sdk.name": sdkName = value
            case "telemetry.sdk.language": sdkLanguage = value
            case "telemetry.sdk.version": sdkVersion = value
            case "telemetry.distro.name": distroName = value
            case "telemetry.distro.version": distroVersion = value
            case "deployment.environment": environment = value
            case "deployment.environment.name": environmentName = value
            case "container.id": containerID = value
            case "os.type": osType = value
            case "os.name": osName = value
            default: break
            }
        }
        if resource.agent_name.enabled {
            let sdk = sdkName.isEmpty ? "otlp" : sdkName
            let name = if !distroName.isEmpty {
                "\(sdk)/\(sdkLanguage.isEmpty ? "unknown" : sdkLanguage)/\(distroName)"
            } else if !sdkLanguage.isEmpty {
                "\(sdk)/\(sdkLanguage)"
            } else {
                sdk
            }
            attributes.insert("agent.name", string: name)
        }
        if resource.agent_version.enabled {
            // With a distro, its version or none: the SDK's would name the wrong thing.
            let version = !distroName.isEmpty ? distroVersion : sdkVersion
            attributes.insert("agent.version", string: version.isEmpty ? "unknown" : version)
        }
        // Both set is taken as a mistake, and the node's name wins.
        if resource.override_host_name.enabled, !k8sNodeName.isEmpty { attributes.set("host.name", string: k8sNodeName) }
        // Elasticsearch's `service.environment` alias targets the key semantic conventions 1.27
        // renamed, so the new key's value is written under the old one too.
        if resource.deployment_environment.enabled, environment.isEmpty, !environmentName.isEmpty {
            attributes.insert("deployment.environment", string: environmentName)
        }
        if resource.default_deployment_environment.enabled, environment.isEmpty, environmentName.isEmpty {
            attributes.insert("deployment.environment", string: "unset")
        }
        if resource.service_instance_id.enabled {
            let instance = containerID.isEmpty ? hostName : containerID
            if !instance.isEmpty { attributes.insert("service.instance.id", string: instance) }
        }
        if resource.host_os_type.enabled, let type = Self.hostOSType(osType: osType, osName: osName) {
            attributes.insert("host.os.type", string: type)
        }
        if resource.default_service_language.enabled, sdkLanguage.isEmpty { attributes.set("telemetry.sdk.language", string: "unknown") }
    }

    /// ECS's `host.os.type` for OTel's `os.type`, or for a mobile `os.name`.
    static func hostOSType(osType: String, osName: String) -> String? {
        switch osName {
        case "Android": return "android"
        case "iOS": return "ios"
        default: break
        }
        switch osType {
        case "windows", "linux": return osType
        case "darwin": return "macos"
        case "aix", "hpux", "solaris": return "unix"
        default: return nil
        }
    }

    /// `service.framework.name` and `.version` from the instrumentation scope that has a name.
    func enrich(_ item: inout InstrumentationScope) {
        guard scope.service_framework_name.enabled, !item.name.isEmpty else { return }
        let name = item.name, version = item.version
        editInPlace(&item, \.attributes) { attributes in
            attributes.insert("service.framework.name", string: name)
            attributes.insert("service.framework.version", string: version)
        }
    }
}
