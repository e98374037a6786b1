import Foundation
import OTLP
import Testing
@testable import OTTL

/// Every converter and editor the language knows is resolved when parsed and runs: a name the
/// check accepts can never fail for being unknown when an item arrives.
@Suite struct OTTLFunctionRegistryTests {
    func context() -> SpanContext {
        var span = Span()
        span.name = "GET /users/42"
        span.traceID = Data((1...16).map { UInt8($0) })
        span.spanID = Data(repeating: 0xAB, count: 8)
        span.attributes = [.with { $0.key = "k"; $0.value.stringValue = "hello" },
                           .with { $0.key = "n"; $0.value.intValue = 5 },
                           .with { $0.key = "m"; $0.value.kvlistValue.values = [.with { $0.key = "x"; $0.value.boolValue = true }] }]
        return SpanContext(span, scope: .init(), resource: .init())
    }

    /// One call per converter with its required arguments (a new converter needs a row here).
    static let converterCalls: [OTTLConverter: String] = [
        .isMatch: #"IsMatch(name, "^GET")"#, .concat: #"Concat(["a", "b"], "-")"#, .split: #"Split(name, " ")"#,
        .parseJSON: #"ParseJSON("{\"a\": 1}")"#, .int: #"Int("7")"#, .double: #"Double(2)"#, .string: #"String(3)"#,
        .isString: "IsString(name)", .isMap: "IsMap(attributes)", .isList: "IsList(attributes)", .isInt: #"IsInt(attributes["n"])"#,
        .isDouble: "IsDouble(1.5)", .isBool: "IsBool(true)", .len: "Len(name)", .sha256: "SHA256(name)", .sha1: "SHA1(name)",
        .sha512: "SHA512(name)", .md5: "MD5(name)", .fnv: "FNV(name)", .traceID: "TraceID(trace_id)", .spanID: "SpanID(span_id)",
        .substring: "Substring(name, 0, 3)", .convertCase: #"ConvertCase(name, "snake")"#, .toLowerCase: "ToLowerCase(name)",
        .toUpperCase: "ToUpperCase(name)", .now: "Now()", .unixNano: "UnixNano(Now())", .unixMilli: "UnixMilli(Now())",
        .unixMicro: "UnixMicro(Now())", .unixSeconds: "UnixSeconds(Now())", .unix: "Unix(1700000000)",
        .duration: #"Duration("1m30s")"#, .hex: "Hex(span_id)", .trim: #"Trim(" x ")"#,
        .time: #"Time("2024-05-01", "%Y-%m-%d")"#, .formatTime: #"FormatTime(Now(), "%Y")"#,
    ]

    static let editorCalls: [OTTLEditor: String] = [
        .set: #"set(attributes["x"], "v")"#, .deleteKey: #"delete_key(attributes, "k")"#,
        .deleteMatchingKeys: #"delete_matching_keys(attributes, "^k$")"#, .keepKeys: #"keep_keys(attributes, ["k"])"#,
        .keepMatchingKeys: #"keep_matching_keys(attributes, "k")"#, .truncateAll: "truncate_all(attributes, 2)",
        .limit: "limit(attributes, 1)", .replacePattern: #"replace_pattern(name, "[0-9]+", "{id}")"#,
        .replaceAllPatterns: #"replace_all_patterns(attributes, "value", "l+", "L")"#,
        .replaceMatch: #"replace_match(name, "GET *", "GET")"#, .replaceAllMatches: #"replace_all_matches(attributes, "h*", "x")"#,
        .mergeMaps: #"merge_maps(attributes, {"m": 1}, "upsert")"#, .flatten: "flatten(attributes)",
        .append: #"append(attributes["list"], "v")"#,
    ]

    @Test(arguments: OTTLConverter.allCases)
    func everyConverterResolvesAndRuns(_ converter: OTTLConverter) throws {
        let text = try #require(Self.converterCalls[converter], "no sample call for \(converter.rawValue)")
        let program = try OTTLProgram<SpanContext>(conditions: ["\(text) != nil"])
        guard case .comparison(.converter(let call), _, _) = program.conditions[0] else {
            Issue.record("\(text) did not parse as a call")
            return
        }
        #expect(call.converter == converter)
        var context = context()
        #expect(try OTTLEvaluator.test(program.conditions[0], &context))
    }

    @Test(arguments: OTTLEditor.allCases)
    func everyEditorResolvesAndRuns(_ editor: OTTLEditor) throws {
        let text = try #require(Self.editorCalls[editor], "no sample statement for \(editor.rawValue)")
        let statement = try OTTLProgram<SpanContext>(statements: [text]).statements[0]
        #expect(statement.function == editor)
        var context = context()
        let before = context.item
        try OTTLEvaluator.run(statement, &context)
        #expect(context.item != before, "\(text) changed nothing")
    }

    @Test func literalPatternsAreCompiledWhenParsed() throws {
        let literal = try OTTLProgram<SpanContext>(conditions: [#"IsMatch(name, "^(?P<verb>GET) ")"#]).conditions[0]
        guard case .value(.converter(let call)) = literal else { Issue.record("not a call"); return }
        #expect(call.regex?.index == 1)
        let computed = try OTTLProgram<SpanContext>(conditions: [#"IsMatch(name, Concat(["^", "GET"], ""))"#]).conditions[0]
        guard case .value(.converter(let other)) = computed else { Issue.record("not a call"); return }
        #expect(other.regex == nil)
        var context = context()
        #expect(try OTTLEvaluator.test(literal, &context))
        #expect(try OTTLEvaluator.test(computed, &context))
        let statement = try OTTLProgram<SpanContext>(statements: [#"replace_pattern(name, "[0-9]+", "{id}")"#]).statements[0]
        #expect(statement.regex?.index == 0)
        try OTTLEvaluator.run(statement, &context)
        #expect(context.item.name == "GET /users/{id}")
    }

    @Test func namedArgumentsTakeTheirParametersPlace() throws {
        let program = try OTTLProgram<SpanContext>(statements: [#"replace_pattern(name, replacement = "{n}", regex = "[0-9]+")"#])
        var context = context()
        try OTTLEvaluator.run(program.statements[0], &context)
        #expect(context.item.name == "GET /users/{n}")
    }
}
