import ArgumentParser
import Foundation
import Kafka
import ServiceLifecycle

/// `otelcol-swift kafka-dev`: a Kafka-protocol broker set for local runs and tests.
struct KafkaDev: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kafka-dev",
        abstract: "Run an in-memory Kafka-protocol broker set (librdkafka's mock cluster) for local use and tests.",
        discussion: """
        Prints the bootstrap address, then runs until SIGINT/SIGTERM. Everything is in memory and each \
        partition keeps only its newest ~5 MiB or 100k message sets: not for production data. \
        Fault injection for tests: SIGUSR1 takes every broker down, SIGUSR2 brings them back.
        """)

    @Option(help: "Number of brokers.") var brokers = 1
    @Option(help: "Partitions of each pre-created topic.") var partitions = 4
    @Option(name: .customLong("topic"), help: "A topic to create; repeatable.") var topics: [String] = ["otlp_spans", "otlp_metrics", "otlp_logs"]

    func run() async throws {
        let cluster = try MockKafkaCluster(brokers: brokers)
        for topic in topics { try cluster.createTopic(topic, partitions: partitions) }
        let banner = "bootstrap: \(cluster.bootstrapServers)\ntopics: \(topics.joined(separator: ", ")) (\(partitions) partitions each)\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        let faults = [(SIGUSR1, false), (SIGUSR2, true)].map { number, up -> any DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            let brokers = self.brokers
            source.setEventHandler {
                for id in 1...brokers {
                    if up { cluster.setUp(broker: Int32(id)) } else { cluster.setDown(broker: Int32(id)) }
                }
                FileHandle.standardOutput.write(Data((up ? "brokers up\n" : "brokers down\n").utf8))
            }
            source.resume()
            return source
        }
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: UntilShutdown())], gracefulShutdownSignals: [.sigterm, .sigint],
            logger: .init(label: "kafka-dev")))
        try await group.run()
        faults.forEach { $0.cancel() }
        cluster.close()
    }
}

/// Runs until the service group is told to shut down.
struct UntilShutdown: Service {
    func run() async throws { try? await gracefulShutdown() }
}
