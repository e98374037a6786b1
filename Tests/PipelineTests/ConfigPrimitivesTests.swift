import Testing
import OTLP
@testable import Pipeline

@Suite struct ConfigPrimitivesTests {
    @Test func durationsUseGoSyntax() {
        #expect(ConfigDuration(parsing: "200ms")?.nanoseconds == 200_000_000)
        #expect(ConfigDuration(parsing: "1m30s")?.nanoseconds == 90_000_000_000)
        #expect(ConfigDuration(parsing: "1.5h")?.nanoseconds == 5_400_000_000_000)
        #expect(ConfigDuration(parsing: "0")?.nanoseconds == 0)
        #expect(ConfigDuration(parsing: "5") == nil)
        #expect(ConfigDuration(parsing: "soon") == nil)
        #expect(ConfigDuration.milliseconds(1500).description == "1500ms")
        #expect(ConfigDuration.seconds(120).description == "2m")
    }

    @Test func laterLayersMergeOverEarlierOnes() throws {
        let base = try ConfigNode.parse(yaml: "a:\n  b: 1\n  c: [1, 2]\nd: x\n", origin: "base")
        let top = try ConfigNode.parse(yaml: "a:\n  c: [3]\n  e: ~\nd:\n", origin: "top")
        let merged = base.merging(top)
        #expect(merged.node(at: ["a", "b"]) == .scalar("1", quoted: false))
        #expect(merged.node(at: ["a", "c"]) == .sequence([.scalar("3", quoted: false)]))
        #expect(merged.node(at: ["d"]) == .scalar("x", quoted: false))
    }

    @Test func setAssignmentsAndEnvironmentReferences() throws {
        var sources = ConfigSources()
        try sources.addYAML("x: ${env:A}\ny: \"$${B}\"\nz: ${C:-[1, 2]}\nw: pre-${A}-post\nv: ${env:D:-}\n", origin: "t", environment: ["A": "7"])
        try sources.addSet("p::q=true")
        let merged = sources.merged
        #expect(merged["x"] == .scalar("7", quoted: false))
        #expect(merged["y"] == .scalar("${B}", quoted: true))
        #expect(merged["z"] == .sequence([.scalar("1", quoted: false), .scalar("2", quoted: false)]))
        #expect(merged["w"] == .scalar("pre-7-post", quoted: false))
        #expect(merged["v"] == .scalar("", quoted: false))
        #expect(merged.node(at: ["p", "q"]) == .scalar("true", quoted: false))
        #expect(sources.origin(of: ["p", "q"]) == "--set")
        #expect(sources.origin(of: ["x"]) == "t")
    }

    @Test func unsupportedProvidersAreErrors() {
        var sources = ConfigSources()
        let error = #expect(throws: ConfigError.self) { try sources.addYAML("k: ${file:/etc/x}\n", origin: "f.yaml") }
        #expect(error?.file == "f.yaml")
        #expect(error?.path == "k")
    }

    @Test func componentAndPipelineIDs() throws {
        #expect(try ComponentID(parsing: "otlp/edge") == ComponentID(type: "otlp", name: "edge"))
        #expect(throws: ConfigError.self) { try ComponentID(parsing: "otlp/") }
        #expect(try PipelineID(parsing: "traces/backend").signal == .traces)
        #expect(throws: ConfigError.self) { try PipelineID(parsing: "events") }
    }
}
