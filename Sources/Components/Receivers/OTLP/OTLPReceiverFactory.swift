import OTLP
import Pipeline

extension OTLPReceiver {
    public static let factory = ReceiverFactory(
        type: "otlp", stability: .beta, signals: Signal.allCases, config: OTLPReceiverConfig.self
    ) { settings, config, consumers in
        OTLPReceiver(settings: settings, config: config, consumers: consumers)
    }
}
