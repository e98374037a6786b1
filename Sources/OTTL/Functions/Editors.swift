import Foundation
import OTLP
#if canImport(Glibc)
import Glibc
#endif

/// Editors: the functions a statement calls to change its item. The first argument is the path
/// written to. One case per editor, resolved when the statement is parsed (as `OTTLConverter`).
enum OTTLEditor: String, CaseIterable, Sendable {
    case set, deleteKey = "delete_key", deleteMatchingKeys = "delete_matching_keys"
    case keepKeys = "keep_keys", keepMatchingKeys = "keep_matching_keys", truncateAll = "truncate_all"
    case limit, replacePattern = "replace_pattern", replaceAllPatterns = "replace_all_patterns"
    case replaceMatch = "replace_match", replaceAllMatches = "replace_all_matches"
    case mergeMaps = "merge_maps", flatten, append

    var signature: OTTLSignature {
        switch self {
        case .set: OTTLSignature(["target", "value"], required: 2)
        case .deleteKey: OTTLSignature(["target", "key"], required: 2)
        case .deleteMatchingKeys: OTTLSignature(["target", "pattern"], required: 2, regex: 1)
        case .keepKeys: OTTLSignature(["target", "keys"], required: 2)
        case .keepMatchingKeys: OTTLSignature(["target", "pattern"], required: 2, regex: 1)
        case .truncateAll: OTTLSignature(["target", "limit"], required: 2)
        case .limit: OTTLSignature(["target", "limit", "priority_keys"], required: 2)
        case .replacePattern: OTTLSignature(["target", "regex", "replacement"], required: 3, regex: 1)
        case .replaceAllPatterns: OTTLSignature(["target", "mode", "regex", "replacement"], required: 4, regex: 2)
        case .replaceMatch: OTTLSignature(["target", "pattern", "replacement"], required: 3)
        case .replaceAllMatches: OTTLSignature(["target", "pattern", "replacement"], required: 3)
        case .mergeMaps: OTTLSignature(["target", "source", "strategy"], required: 3)
        case .flatten: OTTLSignature(["target", "prefix", "depth"], required: 1)
        case .append: OTTLSignature(["target", "value", "values"], required: 1)
        }
    }

    /// Runs the editor on `target` with the statement's other arguments (`args`, positions
    /// counted from the second parameter).
    func run<C: OTTLContext>(_ target: OTTLPath, _ args: OTTLFunctionArguments, _ context: inout C) throws(OTTLRuntimeError) {
        switch self {
        case .set:
            let value = try args.required(0, "value")
            if case .none = value { return }
            try context.set(target, value)
        case .deleteKey:
            try context.edit(target, .deleteKey(try args.string(0, "key")))
        case .deleteMatchingKeys:
            try context.edit(target, .deleteMatchingKeys(try args.regex(0, "pattern")))
        case .keepKeys:
            guard case .list(let keys) = try args.required(0, "keys") else { throw OTTLRuntimeError("keep_keys takes a list of keys") }
            try context.edit(target, .keepKeys(Set(keys.compactMap { if case .stringValue(let s)? = $0.value { s } else { nil } })))
        case .keepMatchingKeys:
            try context.edit(target, .keepMatchingKeys(try args.regex(0, "pattern")))
        case .truncateAll:
            let limit = try args.int(0, "limit")
            guard limit >= 0 else { throw OTTLRuntimeError("truncate_all: limit must be 0 or more") }
            try context.edit(target, .truncateAll(Int(clamping: limit)))
        case .limit:
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
        case .replacePattern:
            guard case .string(let text) = try context.get(target) else { return }
            try context.set(target, .string(try args.regex(0, "regex").replaceAll(in: text, with: try args.string(1, "replacement"))))
        case .replaceAllPatterns:
            let mode = try args.string(0, "mode")
            guard mode == "key" || mode == "value" else { throw OTTLRuntimeError("replace_all_patterns: mode is key or value") }
            let regex = try args.regex(1, "regex")
            let replacement = regex.template(try args.string(2, "replacement"))
            try context.editThroughValues(target) { map in
                for index in map.indices {
                    if mode == "key" {
                        map[index].key = regex.replaceAll(in: map[index].key, with: replacement)
                    } else if case .stringValue(let s)? = map[index].value.value {
                        map[index].value.stringValue = regex.replaceAll(in: s, with: replacement)
                    }
                }
            }
        case .replaceMatch:
            guard case .string(let text) = try context.get(target) else { return }
            if Self.glob(try args.string(0, "pattern"), text) { try context.set(target, .string(try args.string(1, "replacement"))) }
        case .replaceAllMatches:
            try context.edit(target, .replaceAllMatches(try args.string(0, "pattern"), try args.string(1, "replacement")))
        case .mergeMaps:
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
        case .flatten:
            let prefix = try args.optionalString(0, "prefix")
            let depth = args.value(1, "depth").flatMap { if case .int(let d) = $0 { Int(d) } else { nil } } ?? Int.max
            try context.editThroughValues(target) { map in
                var flat: [KeyValue] = []
                Self.flattenEntries(map, prefix: prefix.map { $0 + "." } ?? "", depth: depth, into: &flat)
                map = flat
            }
        case .append:
            var items: [AnyValue]
            switch try context.get(target) {
            case .list(let existing): items = existing
            case .none: items = []
            case let single: items = single.anyValue.map { [$0] } ?? []
            }
            if let value = args.value(0, "value")?.anyValue { items.append(value) }
            if case .list(let values)? = args.value(1, "values") { items += values }
            try context.set(target, .list(items))
        }
    }

    /// Whole-string shell glob (`*`, `?`, `[...]`), as Go's filepath.Match.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        fnmatch(pattern, text, 0) == 0
    }

    private static func flattenEntries(_ map: [KeyValue], prefix: String, depth: Int, into flat: inout [KeyValue]) {
        for entry in map {
            let key = prefix + entry.key
            switch entry.value.value {
            case .kvlistValue(let nested) where depth > 0:
                flattenEntries(nested.values, prefix: key + ".", depth: depth - 1, into: &flat)
            case .arrayValue(let list) where depth > 0:
                let indexed = list.values.enumerated().map { index, value in KeyValue.with { $0.key = String(index); $0.value = value } }
                flattenEntries(indexed, prefix: key + ".", depth: depth - 1, into: &flat)
            default:
                flat.ottlSet(key, entry.value)
            }
        }
    }
}
