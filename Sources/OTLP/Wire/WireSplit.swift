/// Cutting an encoded export request into smaller encoded requests without decoding it.
///
/// An export request is a sequence of top-level resource entries (field 1); any run of them is a
/// valid request of its own, so pieces are byte ranges packed greedily up to a size.
extension WireScan {
    /// The byte ranges of the request's top-level entries (each with its tag and length) and the
    /// items each holds, in order. The bytes must have been validated (a batch's bytes are).
    public static func resourceEntries(_ signal: Signal, in bytes: [UInt8]) throws(OTLPDecodingError) -> [(range: Range<Int>, items: Int)] {
        do {
            return try bytes.withUnsafeBytes { buffer throws(OTLPDecodingError) in
                var reader = WireReader(buffer)
                var entries: [(range: Range<Int>, items: Int)] = []
                let request = WireMessage.request(for: signal)
                while !reader.isAtEnd {
                    let start = reader.offset
                    let (field, wireType) = try reader.tag()
                    guard field == 1, wireType == .lengthDelimited, case .message(let child)? = request.field(1) else {
                        try reader.skip(wireType)
                        continue
                    }
                    let body = try reader.lengthDelimited()
                    var inner = WireReader(buffer, range: body)
                    entries.append((start..<reader.offset, try count(child, &inner)))
                }
                return entries
            }
        } catch let error as OTLPDecodingError {
            throw error
        } catch {
            throw OTLPDecodingError("\(error)")
        }
    }

    /// Packs the request's resource entries, in order, into pieces of at most `limit` bytes.
    /// An entry larger than `limit` on its own becomes a piece by itself.
    public static func pack(_ signal: Signal, _ bytes: [UInt8], limit: Int) throws(OTLPDecodingError) -> [(bytes: [UInt8], items: Int)] {
        var pieces: [(bytes: [UInt8], items: Int)] = []
        var current: [UInt8] = []
        var currentItems = 0
        for entry in try resourceEntries(signal, in: bytes) {
            if entry.range.count > limit {
                pieces.append((Array(bytes[entry.range]), entry.items))
                continue
            }
            if current.count + entry.range.count > limit, !current.isEmpty {
                pieces.append((current, currentItems))
                current = []
                currentItems = 0
            }
            current.append(contentsOf: bytes[entry.range])
            currentItems += entry.items
        }
        if !current.isEmpty { pieces.append((current, currentItems)) }
        return pieces
    }
}
