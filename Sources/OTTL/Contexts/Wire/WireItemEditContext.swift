import OTLP

/// A span or log record context for statements that change only the item's own attributes (and
/// `cache`): every path reads from the encoding, and the attributes are a `WireAttributeList`
/// that the map editors and `set` change in place. Statements that write anything else stay on
/// the model (`writesOnlyItemAttributes`).
public struct WireItemEditContext<Fields: WireItemFields>: OTTLContext {
    public static var name: String { Fields.name }
    public static var reachable: [String] { [Fields.name, "scope", "resource"] }
    public static var fields: Set<String> { Fields.names }
    /// The three messages in one value, which compiled conditions read in place.
    var levels: WireLevels
    public var attributes: WireAttributeList
    var cache = OTTLCache()

    public var item: WireFields { levels.item }
    public var scope: WireFields { levels.scope }
    public var resource: WireFields { levels.resource }

    public init(_ item: WireFields, scope: WireFields, resource: WireFields, attributes: WireAttributeList) {
        levels = WireLevels(item: item, scope: scope, resource: resource)
        self.attributes = attributes
    }

    /// The context of another item, its attributes read into the storage the list has, with an
    /// empty cache.
    public mutating func reset(_ item: WireFields, scope: WireFields, resource: WireFields) {
        levels.item = item
        levels.scope = scope
        levels.resource = resource
        attributes.reset(item, field: Fields.attributesField)
        cache = OTTLCache()
    }

    /// An empty cache, for the next group of statements.
    public mutating func clearCache() {
        if !cache.entries.isEmpty { cache = OTTLCache() }
    }

    public mutating func get(_ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        let path = path.normalized()
        if let upper = try WireUpperLevels.get(path, levels.scope, levels.resource) { return upper }
        switch path.field {
        case "cache": return try cache.get(path)
        case "attributes": return try WireEditedAttributes.get(attributes, path)
        default: return try Fields.get(levels.item, path)
        }
    }

    public mutating func set(_ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        let path = path.normalized()
        guard path.context == nil || path.context == Self.name else { throw readOnly(path) }
        switch path.field {
        case "cache": try cache.set(path, value)
        case "attributes": try WireEditedAttributes.set(&attributes, path, value)
        default: throw readOnly(path)
        }
    }

    public mutating func edit(_ path: OTTLPath, _ edit: OTTLMapEdit) throws(OTTLRuntimeError) {
        let path = path.normalized()
        if path.field == "attributes", path.keys.isEmpty, path.context == nil || path.context == Self.name {
            edit.apply(to: &attributes)
        } else {
            try editThroughValues(path) { edit.apply(to: &$0) }
        }
    }

    /// The statement with its condition reading fields where they lie (the attributes it reads
    /// from the edited list) and, where its editor changes the item's attributes with constants,
    /// that change made once.
    public static func compile(_ statement: OTTLStatement) -> OTTLCompiledStatement<Self>? {
        let condition = statement.condition.map { WireCondition($0) { WireRead.resolve($0, context: name, itemAttributes: false) } }
        let edit = WireAttributeEdit(statement, context: name)
        guard edit != nil || condition.map({ !$0.isGeneral }) == true else { return nil }
        return OTTLCompiledStatement { (context: inout Self) throws(OTTLRuntimeError) in
            if let condition {
                let holds: Bool
                if condition.mayEvaluateGeneral {
                    holds = try condition.test(context.levels) { (condition) throws(OTTLRuntimeError) -> Bool in
                        try OTTLEvaluator.test(condition, &context)
                    }
                } else {
                    // Nothing falls back to the context: the messages are read where it holds them.
                    holds = try condition.test(context.levels, general: WireCondition.noGeneral)
                }
                guard holds else { return }
            }
            if let edit {
                edit.apply(to: &context.attributes)
            } else {
                try OTTLEvaluator.runEditor(statement, &context)
            }
        }
    }
}

/// A change to an item's own attributes whose arguments are literals: `set(attributes["k"], v)`,
/// `delete_key(attributes, "k")`, `truncate_all(attributes, n)`, `replace_pattern` on one
/// attribute, prepared when compiled.
enum WireAttributeEdit: Sendable {
    case set(OTTLPreparedEntry)
    case map(OTTLMapEdit)
    /// `replace_pattern(attributes["k"], pattern, replacement)` with both literal.
    case replacePattern(key: [UInt8], GoRegex, GoRegex.Template)

    init?(_ statement: OTTLStatement, context: String) {
        guard case .path(let target)? = statement.arguments.first?.value, let editor = statement.function,
              statement.slots.count >= 1, case .literal(let argument)? = statement.slots[0] else { return nil }
        let path = target.normalized()
        guard path.context == nil || path.context == context, path.fields == ["attributes"] else { return nil }
        switch (editor, argument) {
        case (.replacePattern, _):
            guard path.keys.count == 1, case .string(let key) = path.keys[0], let regex = statement.regex, regex.index == 0,
                  statement.slots.count == 2, case .literal(.string(let replacement))? = statement.slots[1] else { return nil }
            self = .replacePattern(key: Array(key.utf8), regex.compiled, regex.compiled.template(replacement))
        case (.set, let value):
            // set with nil changes nothing; the general path says so.
            guard path.keys.count == 1, case .string(let key) = path.keys[0], let stored = value.anyValue else { return nil }
            self = .set(OTTLPreparedEntry(key, stored))
        case (.deleteKey, .string(let key)) where path.keys.isEmpty:
            self = .map(.deleteKey(key))
        case (.truncateAll, .int(let limit)) where path.keys.isEmpty && limit >= 0:
            self = .map(.truncateAll(Int(clamping: limit)))
        default:
            return nil
        }
    }

    func apply(to attributes: inout WireAttributeList) {
        switch self {
        case .set(let entry): attributes.set(entry)
        case .map(let edit): edit.apply(to: &attributes)
        case .replacePattern(let key, let regex, let template):
            guard let index = key.withUnsafeBytes({ attributes.index(ofUTF8: $0) }) else { return }
            _ = attributes.rewriteString(at: index) { old, out in Self.replacePattern(old, regex, template, into: &out) }
        }
    }

    /// `replace_pattern`'s new text for a string's UTF-8 `old`, appended to `out`; false when it
    /// stays as it is. ASCII text is matched where it lies and, when nothing matches, stays;
    /// other text is written back as the model writes it (invalid UTF-8 replaced).
    static func replacePattern(_ old: UnsafeRawBufferPointer, _ regex: GoRegex, _ template: GoRegex.Template, into out: inout [UInt8]) -> Bool {
        guard old.allSatisfy({ $0 < 0x80 }) else {
            out.append(contentsOf: regex.replaceAll(in: String(decoding: old, as: UTF8.self), with: template).utf8)
            return true
        }
        return regex.replaceAll(in: old.assumingMemoryBound(to: UInt8.self), with: template, into: &out)
    }
}

public typealias WireSpanEditContext = WireItemEditContext<WireSpanFields>
public typealias WireLogEditContext = WireItemEditContext<WireLogFields>

/// Reads and writes of `attributes` paths on a `WireAttributeList`, with the model's results.
enum WireEditedAttributes {
    static func get(_ list: WireAttributeList, _ path: OTTLPath) throws(OTTLRuntimeError) -> OTTLValue {
        guard case .string(let key)? = path.keys.first else { return try PathValues.getMap(all(list), path) }
        guard let index = list.index(of: key) else { return .none }
        let value = try list.withValue(at: index) { (bytes) throws(OTTLRuntimeError) -> OTTLValue in
            try WireValues.value(bytes, 0..<bytes.count)
        }
        return path.keys.count == 1 ? value : try PathValues.lookup(value, path.keys.dropFirst())
    }

    static func set(_ list: inout WireAttributeList, _ path: OTTLPath, _ value: OTTLValue) throws(OTTLRuntimeError) {
        if path.keys.count == 1, case .string(let key) = path.keys[0] {
            if let stored = value.encodedAnyValue {
                list.set(key, encodedValue: stored)
            } else {
                OTTLMapEdit.deleteKey(key).apply(to: &list)
            }
            return
        }
        // The whole map, or a value inside one of its values: through the model, as rare as it is.
        var map = all(list)
        try PathValues.setMap(&map, path, value)
        list.replaceAll(with: map)
    }

    /// The list decoded.
    static func all(_ list: WireAttributeList) -> [KeyValue] {
        (0..<list.count).map { index in KeyValue.with { $0.key = list.key(at: index); $0.value = list.value(at: index) } }
    }
}

extension OTTLProgram {
    /// Whether every statement writes only the item's own `attributes` or `cache` (so that it can
    /// run on `WireItemEditContext`).
    public var writesOnlyItemAttributes: Bool {
        statements.allSatisfy { statement in
            guard case .path(let target)? = statement.arguments.first?.value else { return false }
            return (target.context == nil || target.context == C.name) && (target.field == "attributes" || target.field == "cache")
        }
    }
}
