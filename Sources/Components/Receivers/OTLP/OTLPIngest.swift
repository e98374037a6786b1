import OTLP
import Pipeline

/// What both OTLP transports do with a decoded request: hand it to the pipelines, count it, and
/// say how the client should be answered.
struct OTLPIngest: Sendable {
    enum Outcome: Sendable {
        case accepted
        case retryLater(PipelineError)
        case rejected(PipelineError)
    }

    let consumers: [Signal: any Consumer]
    let observer: ReceiverObserver
    let settings: ComponentSettings

    func deliver(_ batch: TelemetryBatch) async -> Outcome {
        guard batch.itemCount > 0 else { return .accepted }
        guard let consumer = consumers[batch.signal] else {
            // The transports only route signals that have pipelines; this is a wiring mistake.
            return .rejected(.permanent("no pipeline accepts \(batch.signal)"))
        }
        do {
            try await consumer.consume(batch)
            observer.accepted(batch.signal, batch.itemCount)
            return .accepted
        } catch {
            let failure = PipelineError(classifying: error)
            observer.refused(batch.signal, batch.itemCount)
            settings.logger.debug("refused \(batch.itemCount) \(batch.signal.itemName): \(failure.message)")
            return failure.isRetryable ? .retryLater(failure) : .rejected(failure)
        }
    }
}
