/// The enum names OTTL resolves at parse time.
enum OTTLEnums {
    static func value(of name: String) -> Int64? { table[name] }

    private static let table: [String: Int64] = {
        var table: [String: Int64] = [
            "SPAN_KIND_UNSPECIFIED": 0, "SPAN_KIND_INTERNAL": 1, "SPAN_KIND_SERVER": 2, "SPAN_KIND_CLIENT": 3,
            "SPAN_KIND_PRODUCER": 4, "SPAN_KIND_CONSUMER": 5,
            "STATUS_CODE_UNSET": 0, "STATUS_CODE_OK": 1, "STATUS_CODE_ERROR": 2,
            "AGGREGATION_TEMPORALITY_UNSPECIFIED": 0, "AGGREGATION_TEMPORALITY_DELTA": 1, "AGGREGATION_TEMPORALITY_CUMULATIVE": 2,
            "METRIC_DATA_TYPE_NONE": 0, "METRIC_DATA_TYPE_GAUGE": 1, "METRIC_DATA_TYPE_SUM": 2, "METRIC_DATA_TYPE_HISTOGRAM": 3,
            "METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM": 4, "METRIC_DATA_TYPE_SUMMARY": 5,
            "FLAG_NONE": 0, "FLAG_NO_RECORDED_VALUE": 1,
            "SEVERITY_NUMBER_UNSPECIFIED": 0,
        ]
        for (offset, level) in ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"].enumerated() {
            for n in 0..<4 {
                table["SEVERITY_NUMBER_\(level)\(n == 0 ? "" : String(n + 1))"] = Int64(offset * 4 + n + 1)
            }
        }
        return table
    }()
}
