import OTLP

/// How connectors join pipelines: which pipeline feeds which, checked as Go checks it.
///
/// A connector must be an exporter of at least one pipeline and a receiver of at least one; each
/// pipeline it takes data from needs a pipeline it can feed (a signal pair the connector
/// supports), and each pipeline it feeds one it can take from. Pipeline pairs of a signal pair it
/// does not support are simply not joined. Data must not come back to a pipeline it went through.
enum ConnectorGraph {
    typealias Pipeline = CollectorConfig.Pipeline

    static func check(_ pipelines: [Pipeline], connectors: [ComponentID: CollectorConfig.Entry<ConnectorFactory>]) -> [ConfigError] {
        var errors: [ConfigError] = []
        for (id, entry) in connectors.sorted(by: { $0.key < $1.key }) {
            let from = pipelines.filter { $0.connectorsOut.contains(id) }
            let to = pipelines.filter { $0.connectorsIn.contains(id) }
            if from.isEmpty, to.isEmpty { continue } // reported as unused
            if to.isEmpty {
                errors.append(ConfigError(path: "connectors.\(id)", message: "is an exporter of \(names(from)) but a receiver of no pipeline; list it under a pipeline's receivers"))
                continue
            }
            if from.isEmpty {
                errors.append(ConfigError(path: "connectors.\(id)", message: "is a receiver of \(names(to)) but an exporter of no pipeline; list it under a pipeline's exporters"))
                continue
            }
            for pipeline in from where !to.contains(where: { entry.factory.connects(pipeline.id.signal, $0.id.signal) }) {
                errors.append(ConfigError(path: "service.pipelines.\(pipeline.id).exporters",
                                          message: "connector \"\(id)\" takes \(pipeline.id.signal) here but feeds no pipeline of a signal it makes from \(pipeline.id.signal) (it feeds \(names(to)))"))
            }
            for pipeline in to where !from.contains(where: { entry.factory.connects($0.id.signal, pipeline.id.signal) }) {
                errors.append(ConfigError(path: "service.pipelines.\(pipeline.id).receivers",
                                          message: "connector \"\(id)\" makes \(pipeline.id.signal) here but takes nothing it makes \(pipeline.id.signal) from (it takes from \(names(from)))"))
            }
        }
        if errors.isEmpty, let cycle = cycle(pipelines, connectors: connectors) {
            errors.append(ConfigError(path: "service.pipelines", message: "data would come back to a pipeline it went through: \(cycle)"))
        }
        return errors
    }

    /// The pipelines `pipeline` hands data to through connectors, with the connector.
    static func downstream(of pipeline: Pipeline, in pipelines: [Pipeline],
                           connectors: [ComponentID: CollectorConfig.Entry<ConnectorFactory>]) -> [(via: ComponentID, to: Pipeline)] {
        pipeline.connectorsOut.flatMap { id -> [(via: ComponentID, to: Pipeline)] in
            guard let factory = connectors[id]?.factory else { return [] }
            return pipelines.filter { $0.connectorsIn.contains(id) && factory.connects(pipeline.id.signal, $0.id.signal) }.map { (id, $0) }
        }
    }

    /// The pipelines with every pipeline before those it feeds (data flows from left to right).
    static func ordered(_ pipelines: [Pipeline], connectors: [ComponentID: CollectorConfig.Entry<ConnectorFactory>]) -> [Pipeline] {
        var visited = Set<PipelineID>(), result: [Pipeline] = []
        func visit(_ pipeline: Pipeline) {
            guard visited.insert(pipeline.id).inserted else { return }
            for next in downstream(of: pipeline, in: pipelines, connectors: connectors) { visit(next.to) }
            result.append(pipeline)
        }
        for pipeline in pipelines { visit(pipeline) }
        return result.reversed()
    }

    /// The first loop found, as "traces/a → forward → traces/b → forward/back → traces/a".
    private static func cycle(_ pipelines: [Pipeline], connectors: [ComponentID: CollectorConfig.Entry<ConnectorFactory>]) -> String? {
        var done = Set<PipelineID>()
        // The pipelines on the way here, each with the connector of the edge being followed.
        var path: [(pipeline: PipelineID, via: ComponentID?)] = []
        func visit(_ pipeline: Pipeline) -> String? {
            if let start = path.firstIndex(where: { $0.pipeline == pipeline.id }) {
                let steps = path[start...].flatMap { ["\($0.pipeline)", $0.via.map { "\($0)" } ?? "?"] }
                return (steps + ["\(pipeline.id)"]).joined(separator: " → ")
            }
            guard !done.contains(pipeline.id) else { return nil }
            path.append((pipeline.id, nil))
            for next in downstream(of: pipeline, in: pipelines, connectors: connectors) {
                path[path.count - 1].via = next.via
                if let found = visit(next.to) { return found }
            }
            path.removeLast()
            done.insert(pipeline.id)
            return nil
        }
        for pipeline in pipelines.sorted(by: { $0.id.description < $1.id.description }) {
            if let found = visit(pipeline) { return found }
        }
        return nil
    }

    private static func names(_ pipelines: [Pipeline]) -> String {
        pipelines.map { "service.pipelines.\($0.id)" }.joined(separator: ", ")
    }
}
