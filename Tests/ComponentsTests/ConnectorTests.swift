import Components
import Foundation
import Logging
import OTLP
import Pipeline
import Testing

/// Connectors in the pipeline graph: how a graph loads, and the errors Go reports for a wrong
/// one, each naming its key path. (`forward` end to end: tests/integration/test_connectors.py.)
@Suite struct ConnectorTests {
    static func config(_ pipelines: String, connectors: String = "  forward:\n  forward/back:\n") -> String {
        """
        receivers:
          otlp:
            protocols:
              http:
                endpoint: 127.0.0.1:0
        processors:
          batch:
        exporters:
          debug:
        connectors:
        \(connectors)
        service:
          pipelines:
        \(pipelines)
        """
    }

    func errors(_ text: String) -> [String] {
        do {
            _ = try ComponentSamples.load(text)
            return []
        } catch let errors as ConfigErrors {
            return errors.errors.map { "\($0.path): \($0.message)" }
        } catch {
            return ["\(error)"]
        }
    }

    @Test func aGraphOfConnectorsLoads() throws {
        let loaded = try ComponentSamples.load(Self.config("""
            traces/in:
              receivers: [otlp]
              exporters: [forward]
            traces/out:
              receivers: [forward]
              processors: [batch]
              exporters: [debug]
        """, connectors: "  forward:\n"))
        let pipelines = Dictionary(uniqueKeysWithValues: loaded.pipelines.map { ($0.id.description, $0) })
        #expect(pipelines["traces/in"]?.connectorsOut == [ComponentID(type: "forward")])
        #expect(pipelines["traces/in"]?.exporters == [])
        #expect(pipelines["traces/out"]?.connectorsIn == [ComponentID(type: "forward")])
        #expect(loaded.warnings.allSatisfy { !$0.contains("forward") }, "\(loaded.warnings)")
    }

    @Test func graphErrorsNameTheirKeyPath() {
        // Used on one side only.
        #expect(errors(Self.config("""
            traces:
              receivers: [otlp]
              exporters: [forward, debug]
        """, connectors: "  forward:\n")) == [
            "connectors.forward: is an exporter of service.pipelines.traces but a receiver of no pipeline; list it under a pipeline's receivers",
        ])
        // An unknown name under exporters.
        #expect(errors(Self.config("""
            traces:
              receivers: [otlp]
              exporters: [forwrd]
        """, connectors: "  forward:\n")).contains(
            "service.pipelines.traces.exporters[0]: references exporter \"forwrd\" which is not configured under exporters or connectors"))
        // A signal pair forward does not join.
        #expect(errors(Self.config("""
            traces:
              receivers: [otlp]
              exporters: [forward]
            logs:
              receivers: [forward]
              exporters: [debug]
        """, connectors: "  forward:\n")) == [
            "service.pipelines.traces.exporters: connector \"forward\" takes traces here but feeds no pipeline of a signal it makes from traces (it feeds service.pipelines.logs)",
            "service.pipelines.logs.receivers: connector \"forward\" makes logs here but takes nothing it makes logs from (it takes from service.pipelines.traces)",
        ])
        // A loop through two connectors.
        #expect(errors(Self.config("""
            traces/a:
              receivers: [otlp, forward/back]
              exporters: [forward]
            traces/b:
              receivers: [forward]
              exporters: [forward/back, debug]
        """)) == [
            "service.pipelines: data would come back to a pipeline it went through: traces/a → forward → traces/b → forward/back → traces/a",
        ])
    }
}
