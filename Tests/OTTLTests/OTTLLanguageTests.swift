import Foundation
import OTLP
import Testing
@testable import OTTL

@Suite struct OTTLLanguageTests {
    func attribute(_ key: String, _ value: String) -> KeyValue { .with { $0.key = key; $0.value.stringValue = value } }

    func spanContext() -> SpanContext {
        var span = Span()
        span.name = "GET /health"
        span.kind = .server
        span.traceID = Data((1...16).map { UInt8($0) })
        span.spanID = Data(repeating: 0xAB, count: 8)
        span.startTimeUnixNano = 1_000_000_000
        span.endTimeUnixNano = 3_500_000_000
        span.status.code = .error
        span.attributes = [attribute("http.route", "/health"), .with { $0.key = "http.status_code"; $0.value.intValue = 503 },
                           .with { $0.key = "ratio"; $0.value.doubleValue = 0.5 }]
        let resource = Resource.with { $0.attributes = [attribute("service.name", "api")] }
        return SpanContext(span, scope: .with { $0.name = "lib" }, resource: resource)
    }

    func holds(_ text: String, _ context: SpanContext? = nil) throws -> Bool {
        var context = context ?? spanContext()
        let program = try OTTLProgram<SpanContext>(conditions: [text])
        return try OTTLEvaluator.test(program.conditions[0], &context)
    }

    @Test(arguments: [
        // Comparisons of like types, and numbers across int and double.
        ("attributes[\"http.status_code\"] == 503", true), ("attributes[\"http.status_code\"] >= 500.0", true),
        ("attributes[\"ratio\"] < 1", true), ("name == \"GET /health\"", true), ("name < \"H\"", true),
        ("kind == SPAN_KIND_SERVER", true), ("status.code == STATUS_CODE_ERROR", true),
        ("true == true", true), ("false < true", true),
        // Across types: only != holds, nothing errors.
        ("attributes[\"http.status_code\"] == \"503\"", false), ("attributes[\"http.status_code\"] != \"503\"", true),
        ("name > 1", false), ("name < 1", false),
        // nil: equal only to nil; absent keys are nil.
        ("attributes[\"missing\"] == nil", true), ("attributes[\"missing\"] != nil", false), ("nil == nil", true),
        ("attributes[\"missing\"] < 1", false), ("name != nil", true),
        // Boolean structure and precedence: not > and > or.
        ("not name == \"x\" and kind == 2", true), ("name == \"x\" or kind == 2 and status.code == 2", true),
        ("(name == \"x\" or kind == 2) and status.code == 0", false), ("not (kind == 2)", false),
        // Math: int with int, double with double; time minus time is a duration.
        ("1 + 2 * 3 == 7", true), ("(1 + 2) * 3 == 9", true), ("7 / 2 == 3", true), ("0.5 * 2.0 == 1.0", true),
        ("end_time - start_time == Duration(\"2.5s\")", true),
        // Higher levels and ids.
        ("resource.attributes[\"service.name\"] == \"api\"", true), ("scope.name == \"lib\"", true),
        ("trace_id == TraceID(0x0102030405060708090a0b0c0d0e0f10)", true), ("span_id.string == \"abababababababab\"", true),
        // Converters.
        ("IsMatch(name, \"^GET /he\")", true), ("IsMatch(attributes[\"http.status_code\"], \"^5\")", true),
        ("IsMatch(attributes[\"missing\"], \".*\")", false), ("Len(attributes) == 3", true),
        ("IsMatch(name, \"^(?P<method>[A-Z]+) /\")", true), ("IsMatch(name, \"^GET /health$\")", true),
        ("Concat([\"a\", 1, true], \"-\") == \"a-1-true\"", true), ("Int(\"42\") == 42", true), ("Int(2.9) == 2", true),
        ("Double(\"1.5\") == 1.5", true), ("String(12) == \"12\"", true), ("IsString(name)", true), ("IsInt(name)", false),
        ("Split(\"a,b\", \",\")[1] == \"b\"", true), ("Substring(\"abcdef\", 1, 3) == \"bcd\"", true),
        ("ConvertCase(\"HelloWorld\", \"snake\") == \"hello_world\"", true), ("ToUpperCase(\"ab\") == \"AB\"", true),
        ("SHA256(\"abc\") == \"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"", true),
        ("ParseJSON(\"{\\\"a\\\": {\\\"b\\\": 2}}\")[\"a\"][\"b\"] == 2.0", true),
        ("UnixNano(start_time) == 1000000000", true),
        ("UnixSeconds(Time(\"2023-05-26 12:34:56\", \"%Y-%m-%d %H:%M:%S\")) == 1685104496", true),
        ("UnixMilli(Time(\"26/May/2023:12:34:56.789 +0200\", \"%d/%b/%Y:%H:%M:%S.%L %z\")) == 1685097296789", true),
        ("UnixSeconds(Time(\"2023-05-26 12:34:56\", \"%Y-%m-%d %H:%M:%S\", \"America/New_York\")) == 1685118896", true),
        ("FormatTime(Unix(1685104496), \"%Y-%m-%dT%H:%M:%S\") == \"2023-05-26T12:34:56\"", true),
    ])
    func conditions(_ text: String, _ expected: Bool) throws {
        #expect(try holds(text) == expected, "\(text)")
    }

    @Test func runtimeErrorsAreErrorsNotFalse() throws {
        #expect(throws: OTTLRuntimeError.self) { try holds("1 + 1.5 == 2.5") }
        #expect(throws: OTTLRuntimeError.self) { try holds("1 / 0 == 0") }
        #expect(throws: OTTLRuntimeError.self) { try holds("Substring(\"ab\", 1, 5) == \"b\"") }
    }

    @Test func parseErrorsNameTheColumn() {
        func error(_ text: String, statement: Bool = false) -> OTTLParseError? {
            do {
                if statement { _ = try OTTLProgram<SpanContext>(statements: [text]) } else { _ = try OTTLProgram<SpanContext>(conditions: [text]) }
                return nil
            } catch { return error }
        }
        #expect(error("name == ") == OTTLParseError(message: "unexpected end of text", column: 9, text: "name == "))
        #expect(error("Set(name, \"x\")", statement: true)?.message == "editor names must start with a lowercase letter")
        #expect(error("set(name, Nope(1))", statement: true)?.message == "unknown converter Nope")
        #expect(error("frobnicate(name)", statement: true)?.message == "unknown editor frobnicate")
        #expect(error("set(attributes[\"a\"])", statement: true)?.message == "set takes 2 arguments, got 1")
        #expect(error("nmae == \"x\"")?.message == "unknown path nmae in the span context")
        #expect(error("kind == SPAN_KIND_BOGUS")?.column == 9)
        #expect(error("name == \"unterminated")?.message == "unterminated string")
        // A resource cannot see the spans under it.
        #expect(throws: OTTLParseError.self) { try OTTLProgram<ResourceContext>(conditions: ["span.name == \"x\""]) }
    }

    func run(_ statements: [String], on context: SpanContext? = nil) throws -> SpanContext {
        var context = context ?? spanContext()
        for statement in try OTTLProgram<SpanContext>(statements: statements).statements {
            try OTTLEvaluator.run(statement, &context)
        }
        return context
    }

    @Test func editorsChangeTheItem() throws {
        let context = try run([
            "set(attributes[\"env\"], \"prod\")",
            "set(attributes[\"skipped\"], nil)",
            "set(name, Concat([name, \"!\"], \"\")) where kind == SPAN_KIND_SERVER",
            "set(attributes[\"never\"], 1) where kind == SPAN_KIND_CLIENT",
            "delete_key(attributes, \"ratio\")",
            "set(resource.attributes[\"team\"], \"core\")",
            "set(attributes[\"nested\"][\"a\"], 1)",
            "set(status.code, STATUS_CODE_OK)",
        ])
        #expect(context.item.name == "GET /health!")
        #expect(context.item.attributes.map(\.key) == ["http.route", "http.status_code", "env", "nested"])
        #expect(OTTLValue(context.item.attributes[ottl: "nested"]!) == .map([.with { $0.key = "a"; $0.value.intValue = 1 }]))
        #expect(context.resource.attributes[ottl: "team"]?.stringValue == "core")
        #expect(context.item.status.code == .ok)
    }

    @Test func mapEditors() throws {
        var base = spanContext()
        base.item.attributes = [attribute("a.one", "1234567"), attribute("a.two", "x"), attribute("b", "secret-token-123"),
                                .with { $0.key = "n"; $0.value.intValue = 5 }]
        let kept = try run(["keep_keys(attributes, [\"a.one\", \"n\"])"], on: base)
        #expect(kept.item.attributes.map(\.key) == ["a.one", "n"])
        let matching = try run(["keep_matching_keys(attributes, \"^a\\\\.\")", "truncate_all(attributes, 3)"], on: base)
        #expect(matching.item.attributes.map(\.value.stringValue) == ["123", "x"])
        let deleted = try run(["delete_matching_keys(attributes, \"^a\")"], on: base)
        #expect(deleted.item.attributes.map(\.key) == ["b", "n"])
        let limited = try run(["limit(attributes, 2, [\"n\"])"], on: base)
        #expect(limited.item.attributes.map(\.key) == ["n", "a.one"])
        let replaced = try run(["replace_pattern(attributes[\"b\"], \"token-([0-9]+)\", \"token-***\")",
                                "replace_all_patterns(attributes, \"key\", \"^a\\\\.\", \"alpha.\")",
                                "replace_match(attributes[\"alpha.two\"], \"x*\", \"matched\")"], on: base)
        #expect(replaced.item.attributes.map(\.key) == ["alpha.one", "alpha.two", "b", "n"])
        #expect(replaced.item.attributes[ottl: "b"]?.stringValue == "secret-token-***")
        #expect(replaced.item.attributes[ottl: "alpha.two"]?.stringValue == "matched")
        let merged = try run(["merge_maps(attributes, {\"n\": 6, \"m\": 7}, \"insert\")"], on: base)
        #expect(merged.item.attributes[ottl: "n"]?.intValue == 5)
        #expect(merged.item.attributes[ottl: "m"]?.intValue == 7)
        var nested = spanContext()
        nested.item.attributes = [.with { $0.key = "k"; $0.value.kvlistValue.values = [.with { $0.key = "x"; $0.value.arrayValue.values = [.with { $0.intValue = 1 }] }] }]
        let flat = try run(["flatten(attributes)"], on: nested)
        #expect(flat.item.attributes.map(\.key) == ["k.x.0"])
    }

    @Test func logBodiesAndSeverities() throws {
        var log = LogRecord()
        log.body.kvlistValue.values = [attribute("msg", "hi")]
        log.severityNumber = .warn
        var context = LogContext(log, scope: .init(), resource: .init())
        let program = try OTTLProgram<LogContext>(
            statements: ["set(body[\"level\"], \"warn\") where severity_number >= SEVERITY_NUMBER_WARN"],
            conditions: ["body[\"msg\"] == \"hi\""])
        try OTTLEvaluator.run(program.statements[0], &context)
        #expect(try OTTLEvaluator.test(program.conditions[0], &context))
        #expect(OTTLValue(context.item.body) == .map([attribute("msg", "hi"), attribute("level", "warn")]))
    }
}
