import Foundation

/// The `_bulk` NDJSON of one export: every item's action line and document, back to back in one
/// buffer, so a request is a run of items and a retry of some items is a copy of their ranges.
struct BulkBody {
    struct Item {
        var range: Range<Int>
        var index: String
        var id: String?
        /// Whether the item goes to a data stream (only then may a request require one).
        var dataStream: Bool
    }

    private(set) var bytes: [UInt8] = []
    private(set) var items: [Item] = []
    private var action = JSONWriter(capacity: 256)

    var isEmpty: Bool { items.isEmpty }

    /// Appends a `create` of `document`. Without an explicit id, `contentID` makes one from the
    /// target and the document's bytes, so the same telemetry always gets the same `_id`.
    mutating func create(document: [UInt8], route: Route, id explicitID: String? = nil, contentID: Bool,
                         pipeline: String? = nil, dynamicTemplates: [(String, String)] = []) {
        let id = explicitID ?? (contentID ? Self.contentID(index: route.index, document: document) : nil)
        action.reset()
        action.beginObject()
        action.key("create")
        action.beginObject()
        if let id { action.key("_id"); action.string(id) }
        action.key("_index"); action.string(route.index)
        if let pipeline { action.key("pipeline"); action.string(pipeline) }
        if !dynamicTemplates.isEmpty {
            action.key("dynamic_templates")
            action.beginObject()
            for (path, template) in dynamicTemplates { action.key(path); action.string(template) }
            action.endObject()
        }
        action.endObject()
        action.endObject()
        let start = bytes.count
        bytes.append(contentsOf: action.bytes)
        bytes.append(UInt8(ascii: "\n"))
        bytes.append(contentsOf: document)
        bytes.append(UInt8(ascii: "\n"))
        items.append(Item(range: start..<bytes.count, index: route.index, id: id, dataStream: route.dataStream != nil))
    }

    /// 128 bits of two seeded xxHash64 runs over index and document, URL-safe base64 (22 chars).
    static func contentID(index: String, document: [UInt8]) -> String {
        let seed = XXHash64.hash(Array(index.utf8))
        let first = XXHash64.hash(document, seed: seed)
        let second = XXHash64.hash(document, seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        var raw = [UInt8]()
        raw.reserveCapacity(16)
        for value in [first, second] { for shift in stride(from: 56, through: 0, by: -8) { raw.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) } }
        return Data(raw).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The request body of some items, in their order.
    func body(of positions: [Int]) -> [UInt8] {
        if positions.count == items.count, positions.first == 0, positions.last == items.count - 1 { return bytes }
        var body: [UInt8] = []
        body.reserveCapacity(positions.reduce(0) { $0 + items[$1].range.count })
        for position in positions { body.append(contentsOf: bytes[items[position].range]) }
        return body
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
