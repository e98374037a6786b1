/// The host (with its port) of a URL as Go's `url.Parse` gives it, or nil where Go refuses the
/// URL: Elastic's processor names HTTP destinations by `URL.Host`, and a URL Go refuses falls back
/// to `url.domain` or `server.address` there, so the same inputs must fail here.
///
/// A relative or opaque URL parses with an empty host, as in Go.
struct GoURLHost: Equatable {
    let host: String

    init?(_ raw: String) {
        let bytes = Array(raw.utf8)
        // Control characters are refused anywhere; the fragment is not looked at further.
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7f }) { return nil }
        var rest = bytes.split(separator: UInt8(ascii: "#"), maxSplits: 1, omittingEmptySubsequences: false).first.map(Array.init) ?? []
        let hasScheme: Bool
        switch Self.schemeEnd(rest) {
        case .invalid: return nil
        case .none: hasScheme = false
        case .at(let colon): hasScheme = true; rest = Array(rest[(colon + 1)...])
        }
        if let query = rest.firstIndex(of: UInt8(ascii: "?")) { rest = Array(rest[..<query]) }
        guard rest.starts(with: [UInt8(ascii: "/"), UInt8(ascii: "/")]), hasScheme || !rest.starts(with: Array("///".utf8)) else {
            // No authority: an opaque or relative URL, whose first segment may hold no colon
            // when there is no scheme.
            if !hasScheme, !rest.starts(with: [UInt8(ascii: "/")]) {
                let segment = rest.prefix { $0 != UInt8(ascii: "/") }
                if segment.contains(UInt8(ascii: ":")) { return nil }
            }
            host = ""
            return
        }
        var authority = Array(rest.dropFirst(2).prefix { $0 != UInt8(ascii: "/") })
        if let at = authority.lastIndex(of: UInt8(ascii: "@")) {
            guard authority[..<at].allSatisfy(Self.allowedInUserinfo) else { return nil }
            authority = Array(authority[(at + 1)...])
        }
        guard let host = Self.host(authority) else { return nil }
        self.host = host
    }

    private enum SchemeEnd { case none, at(Int), invalid }

    /// Where a scheme (`[A-Za-z][A-Za-z0-9+.-]*:`) ends, as Go's `getScheme` decides.
    private static func schemeEnd(_ bytes: [UInt8]) -> SchemeEnd {
        for (index, byte) in bytes.enumerated() {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"):
                continue
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."):
                if index == 0 { return .none }
            case UInt8(ascii: ":"):
                return index == 0 ? .invalid : .at(index)
            default:
                return .none
            }
        }
        return .none
    }

    /// The host of an authority with its userinfo removed, percent-decoded; nil where Go's
    /// `parseHost` fails (a port that is not digits, a character a host may not hold, a bad escape).
    private static func host(_ authority: [UInt8]) -> String? {
        var name = authority[...]
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return nil }
            guard validOptionalPort(authority[(close + 1)...]) else { return nil }
            name = authority[...]
        } else if let colon = authority.lastIndex(of: UInt8(ascii: ":")) {
            guard validOptionalPort(authority[colon...]) else { return nil }
        }
        var decoded: [UInt8] = []
        var index = name.startIndex
        while index < name.endIndex {
            let byte = name[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < name.endIndex, let high = hexValue(name[index + 1]), let low = hexValue(name[index + 2]) else { return nil }
                decoded.append(high << 4 | low)
                index += 3
                continue
            }
            guard byte >= 0x80 || allowedInHost(byte) else { return nil }
            decoded.append(byte)
            index += 1
        }
        return String(decoding: decoded, as: UTF8.self)
    }

    private static func validOptionalPort(_ port: ArraySlice<UInt8>) -> Bool {
        guard let first = port.first else { return true }
        return first == UInt8(ascii: ":") && port.dropFirst().allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    private static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default:
            false
        }
    }

    private static func allowedInHost(_ byte: UInt8) -> Bool {
        isUnreserved(byte) || Array("!$&'()*+,;=:[]<>\"".utf8).contains(byte)
    }

    private static func allowedInUserinfo(_ byte: UInt8) -> Bool {
        byte >= 0x80 || isUnreserved(byte) || Array("!$&'()*+,;=:%@".utf8).contains(byte)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
