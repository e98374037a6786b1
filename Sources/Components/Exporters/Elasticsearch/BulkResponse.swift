import Foundation

/// What `_bulk` said about each item, read from the answer filtered to what the exporter needs.
struct BulkItemResult: Equatable {
    var status: Int
    var errorType: String?
    var errorReason: String?
}

enum BulkResponse {
    /// The `filter_path` the exporter asks for: per item only status and error.
    static let filterPath = "errors,items.*.status,items.*.error.type,items.*.error.reason"

    /// Per-item results, or nil when the body is not a bulk answer. An answer without errors
    /// is recognised from its first bytes without parsing the items.
    static func parse(_ body: [UInt8], expectedItems: Int) -> [BulkItemResult]? {
        if Self.reportsNoErrors(body) { return Array(repeating: BulkItemResult(status: 201), count: expectedItems) }
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
              let items = object["items"] as? [[String: Any]] else { return nil }
        return items.map { item in
            let result = item.values.first as? [String: Any] ?? [:]
            let error = result["error"] as? [String: Any]
            return BulkItemResult(status: (result["status"] as? NSNumber)?.intValue ?? 0,
                                  errorType: error?["type"] as? String, errorReason: error?["reason"] as? String)
        }
    }

    private static func reportsNoErrors(_ body: [UInt8]) -> Bool {
        let prefix = Array(#"{"errors":false"#.utf8)
        let head = body.prefix(64).filter { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\n") }
        return head.starts(with: prefix)
    }

    /// The `error.type` and `error.reason` of a failed request's JSON body, for messages.
    static func errorSummary(_ body: [UInt8]) -> String {
        if let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
           let error = object["error"] as? [String: Any] {
            let type = error["type"] as? String ?? "error"
            return (error["reason"] as? String).map { "\(type): \($0)" } ?? type
        }
        return String(decoding: body.prefix(512), as: UTF8.self)
    }
}
