import OTLP
import Prometheus

/// Hands one batch to several consumers at once (a receiver in several pipelines, a pipeline
/// with several exporters) and returns when all have answered.
///
/// Outcome: success only if every consumer succeeded. A permanent failure anywhere is
/// permanent (a retry would fail again there and duplicate elsewhere); otherwise the failure is
/// retryable, and the caller's retry may repeat data to consumers that succeeded.
public struct FanOut: Consumer {
    let consumers: [any Consumer]

    public static func of(_ consumers: [any Consumer]) -> any Consumer {
        consumers.count == 1 ? consumers[0] : FanOut(consumers: consumers)
    }

    public func consume(_ batch: TelemetryBatch) async throws {
        let failures = await withTaskGroup(of: PipelineError?.self) { group in
            for consumer in consumers {
                group.addTask {
                    do {
                        try await consumer.consume(batch)
                        return nil
                    } catch {
                        return PipelineError(classifying: error)
                    }
                }
            }
            var failures: [PipelineError] = []
            for await failure in group { if let failure { failures.append(failure) } }
            return failures
        }
        guard let first = failures.first else { return }
        throw failures.first(where: { !$0.isRetryable }) ?? first
    }
}

/// Counts what an exporter sent and failed to send, as `otelcol_exporter_sent_*` and
/// `otelcol_exporter_send_failed_*`.
struct ObservedExporter: Consumer {
    let exporter: any Exporter
    let sent: [Signal: Counter]
    let failed: [Signal: Counter]

    init(_ exporter: any Exporter, id: ComponentID, telemetry: CollectorTelemetry) {
        self.exporter = exporter
        var sent: [Signal: Counter] = [:]
        var failed: [Signal: Counter] = [:]
        for signal in Signal.allCases {
            sent[signal] = telemetry.counter("otelcol_exporter_sent_\(signal.itemName)_total", [("exporter", id.description)])
            failed[signal] = telemetry.counter("otelcol_exporter_send_failed_\(signal.itemName)_total", [("exporter", id.description)])
        }
        self.sent = sent
        self.failed = failed
    }

    func consume(_ batch: TelemetryBatch) async throws {
        do {
            try await exporter.consume(batch)
            sent[batch.signal]?.increment(by: Int64(batch.itemCount))
        } catch {
            failed[batch.signal]?.increment(by: Int64(batch.itemCount))
            throw error
        }
    }
}
