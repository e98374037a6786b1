import Foundation

/// The `_bulk` NDJSON of one export: every item's action line and document, back to back in one
/// buffer, so a request is a run of items and a retry of some items is a copy of their ranges.
struct BulkBody {
    struct Item {
        var range: Range<Int>
        var index: String
        /// Whether the item goes to a data stream (only then may a request require one).
        var dataStream: Bool
    }

    private(set) var bytes: [UInt8] = []
    private(set) var items: [Item] = []
    /// The last index written, its hash (the seed of content ids) and its name as a JSON string:
    /// documents of one batch mostly share their index.
    private var lastIndex: (name: String, seed: UInt64, quoted: [UInt8])?

    var isEmpty: Bool { items.isEmpty }

    mutating func reserve(items count: Int, bytes size: Int) {
        items.reserveCapacity(count)
        bytes.reserveCapacity(size)
    }

    /// Appends a `create` of `document`. Without an explicit id, `contentID` makes one from the
    /// target and the document's bytes, so the same telemetry always gets the same `_id`.
    mutating func create(document: borrowing JSONWriter, route: Route, id explicitID: String? = nil, contentID: Bool,
                         pipeline: String? = nil, dynamicTemplates: [(String, String)] = []) {
        document.withBytes {
            create(document: $0, route: route, id: explicitID, contentID: contentID, pipeline: pipeline, dynamicTemplates: dynamicTemplates)
        }
    }

    mutating func create(document: UnsafeRawBufferPointer, route: Route, id explicitID: String? = nil, contentID: Bool,
                         pipeline: String? = nil, dynamicTemplates: [(String, String)] = []) {
        let start = bytes.count
        let index = indexFacts(route.index)
        if explicitID == nil, pipeline == nil, dynamicTemplates.isEmpty {
            // The common action line, written in place: {"create":{"_id":"…","_index":"…"}}
            append(#"{"create":{"#)
            if contentID {
                append(#""_id":""#)
                Self.appendContentID(seed: index.seed, document: document, to: &bytes)
                append(#"","#)
            }
            append(#""_index":"#)
            bytes.append(contentsOf: index.quoted)
            append("}}\n")
        } else {
            let id = explicitID ?? (contentID ? Self.contentID(indexSeed: index.seed, document: document) : nil)
            var action = JSONWriter()
            action.beginObject()
            action.key("create")
            action.beginObject()
            if let id { action.key("_id"); action.string(id) }
            action.key("_index"); action.string(route.index)
            if let pipeline { action.key("pipeline"); action.string(pipeline) }
            if !dynamicTemplates.isEmpty {
                action.key("dynamic_templates")
                action.beginObject()
                for (path, template) in dynamicTemplates { action.dynamicKey(path); action.string(template) }
                action.endObject()
            }
            action.endObject()
            action.endObject()
            action.withBytes { bytes.append(contentsOf: $0) }
            bytes.append(UInt8(ascii: "\n"))
        }
        bytes.append(contentsOf: document)
        bytes.append(UInt8(ascii: "\n"))
        items.append(Item(range: start..<bytes.count, index: route.index, dataStream: route.dataStream != nil))
    }

    private mutating func append(_ text: StaticString) {
        text.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// The `_id` in an item's action line, if it has one.
    func id(of position: Int) -> String? {
        let line = bytes[items[position].range].prefix { $0 != UInt8(ascii: "\n") }
        guard let json = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: [String: Any]] else { return nil }
        return json["create"]?["_id"] as? String
    }

    private mutating func indexFacts(_ index: String) -> (seed: UInt64, quoted: [UInt8]) {
        if let lastIndex, lastIndex.name == index { return (lastIndex.seed, lastIndex.quoted) }
        var quoted = JSONWriter()
        quoted.string(index)
        let facts = (name: index, seed: XXHash64.hash(Array(index.utf8)), quoted: quoted.bytes)
        lastIndex = facts
        return (facts.seed, facts.quoted)
    }

    /// 128 bits of two seeded xxHash64 runs over index and document, URL-safe base64 (22 chars).
    static func contentID(index: String, document: [UInt8]) -> String {
        document.withUnsafeBytes { contentID(indexSeed: XXHash64.hash(Array(index.utf8)), document: $0) }
    }

    private static let base64URL = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func contentID(indexSeed seed: UInt64, document: UnsafeRawBufferPointer) -> String {
        var id: [UInt8] = []
        appendContentID(seed: seed, document: document, to: &id)
        return String(decoding: id, as: UTF8.self)
    }

    private static func appendContentID(seed: UInt64, document: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        let (first, second) = XXHash64.hashes(document, seeds: (seed, seed ^ 0x9E37_79B9_7F4A_7C15))
        // The 128 bits, most significant first, as 21 groups of 6 and a last group of 2 padded
        // with zero bits.
        for bit in stride(from: 0, to: 128, by: 6) {
            let group: UInt64
            if bit + 6 <= 64 {
                group = first >> UInt64(58 - bit)
            } else if bit < 64 {
                group = first << UInt64(bit + 6 - 64) | second >> UInt64(122 - bit)
            } else if bit + 6 <= 128 {
                group = second >> UInt64(122 - bit)
            } else {
                group = second << UInt64(bit + 6 - 128)
            }
            out.append(base64URL[Int(group & 63)])
        }
    }

    /// The request body of some items, in their order.
    func body(of positions: [Int]) -> ArraySlice<UInt8> {
        // A run of consecutive items (every first attempt) is one range of the buffer: no copy.
        if let first = positions.first, let last = positions.last, last - first == positions.count - 1 {
            return bytes[items[first].range.lowerBound..<items[last].range.upperBound]
        }
        var body: [UInt8] = []
        body.reserveCapacity(positions.reduce(0) { $0 + items[$1].range.count })
        for position in positions { body.append(contentsOf: bytes[items[position].range]) }
        return body[...]
    }

    /// Consecutive runs of items whose bodies stay within `maxBytes`; an item larger than that
    /// on its own is a run by itself (the server answers whether it takes it).
    func chunks(of positions: [Int], maxBytes: Int) -> [[Int]] {
        var chunks: [[Int]] = []
        var current: [Int] = []
        var size = 0
        for position in positions {
            let length = items[position].range.count
            if !current.isEmpty, size + length > maxBytes {
                chunks.append(current)
                current = []
                size = 0
            }
            current.append(position)
            size += length
        }
        if !current.isEmpty { chunks.append(current) }
        return chunks
    }
}
