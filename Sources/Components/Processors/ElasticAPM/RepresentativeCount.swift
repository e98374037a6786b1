import Foundation

/// How many spans one sampled span stands for, from its W3C tracestate's `ot` entry, as Elastic's
/// processor computes `*.representative_count`: the rejection threshold `th` gives
/// 2^56 / (2^56 − T); without one, the legacy `p` value gives 2^p (p = 63: zero). A tracestate
/// that says nothing or does not parse counts 1. The connector's adjusted count reads only the
/// threshold (`readsP: false`).
enum RepresentativeCount {
    static func of(traceState: String, readsP: Bool = true) -> Double {
        guard let ot = otValue(traceState) else { return 1 }
        var threshold: UInt64?
        var p: UInt64 = 0
        for field in ot.split(separator: ";", omittingEmptySubsequences: false) {
            guard let colon = field.firstIndex(of: ":") else { return 1 }
            let key = field[..<colon], value = field[field.index(after: colon)...]
            switch key {
            case "th":
                guard let parsed = thresholdValue(value) else { return 1 }
                threshold = parsed
            case "rv":
                guard value.count == 14, value.allSatisfy(\.isLowercaseHexDigit) else { return 1 }
            case "p":
                if !value.isEmpty { p = pValue(value) }
            default:
                break
            }
        }
        if let threshold {
            return threshold == 0 ? 1 : 0x1p56 / Double(UInt64(1) << 56 - threshold)
        }
        guard readsP else { return 1 }
        return p == 63 ? 0 : pow(2, Double(p))
    }

    /// The `ot` member's value, or nil when there is none.
    private static func otValue(_ traceState: String) -> Substring? {
        for member in traceState.split(separator: ",") {
            let trimmed = member.drop { $0 == " " || $0 == "\t" }
            guard trimmed.hasPrefix("ot=") else { continue }
            var value = trimmed.dropFirst(3)
            while value.last == " " || value.last == "\t" { value = value.dropLast() }
            return value
        }
        return nil
    }

    /// A threshold of 1 to 14 lowercase hex digits, the missing ones zero.
    private static func thresholdValue(_ digits: Substring) -> UInt64? {
        guard (1...14).contains(digits.count), digits.allSatisfy(\.isLowercaseHexDigit),
              let value = UInt64(digits, radix: 16) else { return nil }
        return value << (4 * UInt64(14 - digits.count))
    }

    /// Go's `strconv.ParseUint(v, 10, 6)` as Elastic reads it, errors ignored: a number past 63
    /// gives 63 (the range error's value), anything else that is not a number gives 0.
    private static func pValue(_ digits: Substring) -> UInt64 {
        guard digits.allSatisfy(\.isASCIIDigitCharacter) else { return 0 }
        guard let value = UInt64(digits) else { return 63 }
        return min(value, 63)
    }
}

extension Character {
    fileprivate var isLowercaseHexDigit: Bool { ("0"..."9").contains(self) || ("a"..."f").contains(self) }
    fileprivate var isASCIIDigitCharacter: Bool { ("0"..."9").contains(self) }
}
