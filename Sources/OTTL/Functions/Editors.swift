import Foundation
import OTLP
#if canImport(Glibc)
import Glibc
#endif

/// Editors: the functions a statement calls to change its item. The first argument is the path
/// written to.
enum OTTLEditors {
    static let signatures: [String: (parameters: [String], required: Int)] = [
        "set": (["target", "value"], 2), "delete_key": (["target", "key"], 2), "delete_matching_keys": (["target", "pattern"], 2),
        "keep_keys": (["target", "keys"], 2), "keep_matching_keys": (["target", "pattern"], 2),
        "truncate_all": (["target", "limit"], 2), "limit": (["target", "limit", "priority_keys"], 2),
        "replace_pattern": (["target", "regex", "replacement"], 3),
        "replace_all_patterns": (["target", "mode", "regex", "replacement"], 4),
        "replace_match": (["target", "pattern", "replacement"], 3),
        "replace_all_matches": (["target", "pattern", "replacement"], 3),
        "merge_maps": (["target", "source", "strategy"], 3), "flatten": (["target", "prefix", "depth"], 1),
        "append": (["target", "value", "values"], 1),
    ]

    static func run<C: OTTLContext>(_ statement: OTTLStatement, _ context: inout C) throws(OTTLRuntimeError) {
        let name = statement.editor
        guard signatures[name] != nil else { throw OTTLRuntimeError("unknown editor \(name)") }
        guard case .path(let target)? = statement.arguments.first?.value else {
            throw OTTLRuntimeError("\(name) needs a path to change as its first argument")
        }
        var positional: [OTTLValue] = []
        var named: [String: OTTLValue] = [:]
        for argument in statement.arguments.dropFirst() {
            let value = try OTTLEvaluator.value(argument.value, &context)
            if let parameter = argument.name { named[parameter] = value } else { positional.append(value) }
        }
        // Positions here count from the second parameter.
        let args = OTTLFunctionArguments(name: name, positional: positional, named: named)
        switch name {
        case "set":
            let value = try args.required(0, "value")
            if case .none = value { return }
            try context.set(target, value)
        case "delete_key":
            try context.edit(target, .deleteKey(try args.string(0, "key")))
        case "delete_matching_keys":
            try context.edit(target, .deleteMatchingKeys(try OTTLRegex.compile(try args.string(0, "pattern"))))
        case "keep_keys":
            guard case .list(let keys) = try args.required(0, "keys") else { throw OTTLRuntimeError("keep_keys takes a list of keys") }
            try context.edit(target, .keepKeys(Set(keys.compactMap { if case .stringValue(let s)? = $0.value { s } else { nil } })))
        case "keep_matching_keys":
            try context.edit(target, .keepMatchingKeys(try OTTLRegex.compile(try args.string(0, "pattern"))))
        case "truncate_all":
            let limit = try args.int(0, "limit")
            guard limit >= 0 else { throw OTTLRuntimeError("truncate_all: limit must be 0 or more") }
            try context.edit(target, .truncateAll(Int(clamping: limit)))
        case "limit":
            let limit = Int(try args.int(0, "limit"))
            var priority: [String] = []
            if case .list(let keys)? = args.value(1, "priority_keys") {
                priority = keys.compactMap { if case .stringValue(let s)? = $0.value { s } else { nil } }
            }
            guard limit >= 0, priority.count <= limit else { throw OTTLRuntimeError("limit: more priority keys than the limit") }
            try context.editThroughValues(target) { map in
                guard map.count > limit else { return }
                let first = map.filter { priority.contains($0.key) }
                let rest = map.filter { !priority.contains($0.key) }
                // A key repeated in the map can make the priority entries alone more than the limit.
                map = first + rest.prefix(max(0, limit - first.count))
            }
        case "replace_pattern":
            guard case .string(let text) = try context.get(target) else { return }
            try context.set(target, .string(try OTTLRegex.replace(try args.string(0, "regex"), in: text, with: try args.string(1, "replacement"))))
        case "replace_all_patterns":
            let mode = try args.string(0, "mode")
            guard mode == "key" || mode == "value" else { throw OTTLRuntimeError("replace_all_patterns: mode is key or value") }
            let regex = try OTTLRegex.compile(try args.string(1, "regex")), replacement = try args.string(2, "replacement")
            try context.editThroughValues(target) { map in
                for index in map.indices {
                    if mode == "key" {
                        map[index].key = OTTLRegex.replace(regex, in: map[index].key, with: replacement)
                    } else if case .stringValue(let s)? = map[index].value.value {
                        map[index].value.stringValue = OTTLRegex.replace(regex, in: s, with: replacement)
                    }
                }
            }
        case "replace_match":
            guard case .string(let text) = try context.get(target) else { return }
            if glob(try args.string(0, "pattern"), text) { try context.set(target, .string(try args.string(1, "replacement"))) }
        case "replace_all_matches":
            try context.edit(target, .replaceAllMatches(try args.string(0, "pattern"), try args.string(1, "replacement")))
        case "merge_maps":
            guard case .map(let source) = try args.required(0, "source") else { return }
            let strategy = try args.string(1, "strategy")
            guard ["insert", "update", "upsert"].contains(strategy) else { throw OTTLRuntimeError("merge_maps: strategy is insert, update or upsert") }
            try context.editThroughValues(target) { map in
                for entry in source {
                    let present = map[ottl: entry.key] != nil
                    if strategy == "upsert" || (strategy == "insert" && !present) || (strategy == "update" && present) {
                        map.ottlSet(entry.key, entry.value)
                    }
                }
            }
        case "flatten":
            let prefix = try args.optionalString(0, "prefix")
            let depth = args.value(1, "depth").flatMap { if case .int(let d) = $0 { Int(d) } else { nil } } ?? Int.max
            try context.editThroughValues(target) { map in
                var flat: [KeyValue] = []
                flatten(map, prefix: prefix.map { $0 + "." } ?? "", depth: depth, into: &flat)
                map = flat
            }
        case "append":
            var items: [AnyValue]
            switch try context.get(target) {
            case .list(let existing): items = existing
            case .none: items = []
            case let single: items = single.anyValue.map { [$0] } ?? []
            }
            if let value = args.value(0, "value")?.anyValue { items.append(value) }
            if case .list(let values)? = args.value(1, "values") { items += values }
            try context.set(target, .list(items))
        default:
            throw OTTLRuntimeError("unknown editor \(name)")
        }
    }

    /// Whole-string shell glob (`*`, `?`, `[...]`), as Go's filepath.Match.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }

    private static func flatten(_ map: [KeyValue], prefix: String, depth: Int, into flat: inout [KeyValue]) {
        for entry in map {
            let key = prefix + entry.key
            switch entry.value.value {
            case .kvlistValue(let nested) where depth > 0:
                flatten(nested.values, prefix: key + ".", depth: depth - 1, into: &flat)
            case .arrayValue(let list) where depth > 0:
                let indexed = list.values.enumerated().map { index, value in KeyValue.with { $0.key = String(index); $0.value = value } }
                flatten(indexed, prefix: key + ".", depth: depth - 1, into: &flat)
            default:
                flat.ottlSet(key, entry.value)
            }
        }
    }
}
