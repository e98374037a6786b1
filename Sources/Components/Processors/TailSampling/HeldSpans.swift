import OTLP

/// A trace id as two words and a length: a dictionary key without an allocation. Ids longer than
/// the 16 bytes OTLP allows are told apart by their first 16 only.
struct TraceID: Hashable, Sendable {
    var high: UInt64 = 0
    var low: UInt64 = 0
    var length: UInt8 = 0

    init() {}

    init(_ bytes: UnsafeRawBufferPointer) {
        length = UInt8(min(bytes.count, 16))
        if bytes.count == 16 {
            high = UInt64(bigEndian: bytes.loadUnaligned(as: UInt64.self))
            low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            return
        }
        for (index, byte) in bytes.prefix(16).enumerated() {
            let shifted = UInt64(byte) << UInt64(56 - 8 * (index % 8))
            if index < 8 { high |= shifted } else { low |= shifted }
        }
    }

    init(_ bytes: [UInt8]) { self = bytes.withUnsafeBytes { TraceID($0) } }

    // The length tells ids apart only when they are shorter than 16 bytes, which is rare.
    func hash(into hasher: inout Hasher) {
        hasher.combine(high)
        hasher.combine(low)
    }

    /// The id's bytes, in order.
    var bytes: [UInt8] {
        (0..<Int(length)).map { index -> UInt8 in
            let word = index < 8 ? high : low
            let shift = UInt64(56 - 8 * (index % 8))
            return UInt8(truncatingIfNeeded: word >> shift)
        }
    }
}

/// One scope entry of a held request: where its resource and scope lie, and the fields of the
/// resource and scope entries other than their children (written again around sampled spans).
struct HeldScope: Sendable {
    var resourceEntry: Int
    var resource: Range<Int>
    var scope: Range<Int>
    var resourceEnvelope: [Range<Int>]
    var scopeEnvelope: [Range<Int>]
}

/// A received request whose spans wait for their traces' decisions: the spans of a batch are held
/// by reference into its bytes, not copied out one by one, and the bytes are kept zstd-compressed
/// (`ZstdBlocks`, a fast level): telemetry repeats its keys and values so much that a held span
/// costs a fraction of its encoding. They are opened again (`RequestOpener`) to decide and to send.
///
/// The bytes live until the last span that points into them is decided, which is about one
/// `decision_wait` after the batch arrived: the traces first seen in a batch are decided together.
final class HeldRequest: Sendable {
    /// The request's encoding, compressed unless `isCompressed` is false (zstd failed).
    private let stored: [UInt8]
    private let isCompressed: Bool
    let size: Int
    let scopes: [HeldScope]

    static let compressionLevel: Int32 = 1

    private init(_ bytes: UnsafeRawBufferPointer, scopes: [HeldScope]) {
        size = bytes.count
        if let compressed = ZstdBlocks.compress(bytes, level: Self.compressionLevel) {
            stored = compressed
            isCompressed = true
        } else {
            stored = Array(bytes)
            isCompressed = false
        }
        self.scopes = scopes
    }

    /// Bytes kept for the request.
    var storedSize: Int { stored.count }

    /// The request's encoding in memory of its own, for indexed fields to point into.
    fileprivate func open() throws(OTLPDecodingError) -> OpenedRequest {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 8)
        if isCompressed {
            guard ZstdBlocks.decompress(stored, into: storage) else {
                storage.deallocate()
                throw OTLPDecodingError("held spans: the compressed request does not decompress")
            }
        } else {
            storage.copyBytes(from: stored)
        }
        return OpenedRequest(self, storage)
    }

    /// The request's spans grouped by trace id, in order of first appearance, each group in the
    /// request's order. A request with a singular sub-message twice (which decoders merge) is
    /// written once through the model first, so that reading a field's last occurrence is right.
    static func hold(_ bytes: [UInt8]) throws(OTLPDecodingError) -> [(TraceID, [HeldSpan])] {
        if let traces = try split(bytes) { return traces }
        let canonical: [UInt8]
        do { canonical = try ExportTraceServiceRequest(serializedBytes: bytes).serializedBytes() } catch {
            throw OTLPDecodingError("\(error)")
        }
        guard let traces = try split(canonical) else { throw OTLPDecodingError("a singular sub-message appears more than once") }
        return traces
    }

    /// nil when a singular sub-message (a resource, scope or span status) appears twice.
    private static func split(_ bytes: [UInt8]) throws(OTLPDecodingError) -> [(TraceID, [HeldSpan])]? {
        var scopes: [HeldScope] = []
        var spans: [(id: TraceID, scope: Int, body: Range<Int>)] = []
        let walked = bytes.withUnsafeBytes { buffer -> Result<HeldRequest?, OTLPDecodingError> in
            do throws(OTLPDecodingError) {
                guard try walk(buffer, &scopes, &spans) else { return .success(nil) }
                return .success(HeldRequest(buffer, scopes: scopes))
            } catch {
                return .failure(error)
            }
        }
        guard let request = try walked.get() else { return nil }
        var groups: [(TraceID, [HeldSpan])] = []
        var index = TraceTable<Int>()
        for span in spans {
            let held = HeldSpan(request: request, scope: UInt32(span.scope), start: UInt32(span.body.lowerBound), end: UInt32(span.body.upperBound))
            // A trace's spans usually follow each other: only a change of id is looked up.
            if let last = groups.indices.last, groups[last].0 == span.id {
                groups[last].1.append(held)
            } else if let known = index[span.id] {
                groups[known].1.append(held)
            } else {
                index.set(span.id, groups.count)
                groups.append((span.id, [held]))
            }
        }
        return groups
    }

    /// Finds the scopes and spans of the request in `buffer`; false when a singular sub-message
    /// appears twice.
    private static func walk(_ buffer: UnsafeRawBufferPointer, _ scopes: inout [HeldScope],
                             _ spans: inout [(id: TraceID, scope: Int, body: Range<Int>)]) throws(OTLPDecodingError) -> Bool {
        var top = WireReader(buffer)
        var resourceEntry = 0
        while !top.isAtEnd {
            let (field, wireType) = try top.tag()
            guard field == 1, wireType == .lengthDelimited else { try top.skip(wireType); continue }
            let entryBody = try top.lengthDelimited()
            var resource: Range<Int>?
            var envelope: [Range<Int>] = []
            var scopeBodies: [Range<Int>] = []
            var entry = WireReader(buffer, range: entryBody)
            while !entry.isAtEnd {
                let start = entry.offset
                let (f, w) = try entry.tag()
                if f == 2, w == .lengthDelimited { scopeBodies.append(try entry.lengthDelimited()); continue }
                if f == 1, w == .lengthDelimited {
                    guard resource == nil else { return false }
                    resource = try entry.lengthDelimited()
                } else {
                    try entry.skip(w)
                }
                envelope.append(start..<entry.offset)
            }
            for scopeBody in scopeBodies {
                var scope: Range<Int>?
                var scopeEnvelope: [Range<Int>] = []
                var reader = WireReader(buffer, range: scopeBody)
                while !reader.isAtEnd {
                    let start = reader.offset
                    let (f, w) = try reader.tag()
                    if f == 2, w == .lengthDelimited {
                        let body = try reader.lengthDelimited()
                        guard let id = try traceID(of: body, in: buffer) else { return false }
                        spans.append((id, scopes.count, body))
                        continue
                    }
                    if f == 1, w == .lengthDelimited {
                        guard scope == nil else { return false }
                        scope = try reader.lengthDelimited()
                    } else {
                        try reader.skip(w)
                    }
                    scopeEnvelope.append(start..<reader.offset)
                }
                let none = scopeBody.upperBound..<scopeBody.upperBound
                scopes.append(HeldScope(resourceEntry: resourceEntry, resource: resource ?? entryBody.upperBound..<entryBody.upperBound,
                                        scope: scope ?? none, resourceEnvelope: envelope, scopeEnvelope: scopeEnvelope))
            }
            resourceEntry += 1
        }
        return true
    }

    /// The span's trace id (field 1; empty when absent), or nil when its status (field 15)
    /// appears twice.
    private static func traceID(of body: Range<Int>, in buffer: UnsafeRawBufferPointer) throws(OTLPDecodingError) -> TraceID? {
        var id = 0..<0
        var statuses = 0
        var reader = WireReader(buffer, range: body)
        while !reader.isAtEnd {
            // Every received span is walked here: fields of the usual shapes are stepped over
            // without the switch on their wire type.
            if buffer[reader.offset] != 1 << 3 | 2, let field = reader.skipUsualField() {
                if field == 15 { statuses += 1 }
                continue
            }
            let (f, w) = try reader.tag()
            if f == 1, w == .lengthDelimited {
                id = try reader.lengthDelimited()
                continue
            }
            if f == 15 { statuses += 1 }
            try reader.skip(w)
        }
        return statuses > 1 ? nil : TraceID(UnsafeRawBufferPointer(rebasing: buffer[id]))
    }
}

/// A span waiting for its trace's decision: where its body lies in a held request.
struct HeldSpan: Sendable {
    let request: HeldRequest
    let scope: UInt32
    let start: UInt32
    let end: UInt32

    var body: Range<Int> { Int(start)..<Int(end) }
}

/// A held span's fields as the policies read them, in the bytes of its request, and which of
/// its trace's scopes and resources it has (`TraceView.envelopes`). Kept small: every policy
/// that walks a trace's spans copies each one as it goes.
struct HeldSpanFields {
    let span: WireFields
    let envelope: Int
}

/// A scope and its resource, indexed.
typealias HeldEnvelope = (scope: WireFields, resource: WireFields)

/// A held request's bytes decompressed, for as long as fields read from them are in use.
final class OpenedRequest {
    let request: HeldRequest
    private let storage: UnsafeMutableRawBufferPointer

    var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(storage) }

    /// Takes ownership of `storage`.
    fileprivate init(_ request: HeldRequest, _ storage: UnsafeMutableRawBufferPointer) {
        self.request = request
        self.storage = storage
        envelopes = Array(repeating: nil, count: request.scopes.count)
    }

    deinit { storage.deallocate() }

    /// Each scope's and its resource's fields, indexed when a span of the scope is first read: the
    /// traces of a request are decided one after another, and share them.
    private var envelopes: [HeldEnvelope?]

    /// The scope entry's (`HeldSpan.scope`) scope and resource.
    func envelope(_ index: Int) throws(OTLPDecodingError) -> HeldEnvelope {
        if let known = envelopes[index] { return known }
        let place = request.scopes[index]
        let envelope = (try WireFields(buffer, place.scope), try WireFields(buffer, place.resource))
        envelopes[index] = envelope
        return envelope
    }

    /// The span's fields, indexed.
    func fields(_ span: HeldSpan) throws(OTLPDecodingError) -> WireFields {
        try WireFields(buffer, span.body, singularMessages: 1 << 15, firstOf: WireRewrite.itemAttributes(.traces))
    }
}

/// Opens held requests for a round of decisions, keeping the last few open: the traces of one
/// request are decided one after another, and each would otherwise decompress it again.
struct RequestOpener {
    private var open: [OpenedRequest] = []
    private let keep = 4

    init() {}

    mutating func callAsFunction(_ request: HeldRequest) throws(OTLPDecodingError) -> OpenedRequest {
        if let index = open.firstIndex(where: { $0.request === request }) { return open[index] }
        let opened = try request.open()
        if open.count == keep { open.removeFirst() }
        open.append(opened)
        return opened
    }
}

enum HeldSpans {
    /// One export request holding `spans` under their resources and scopes, as received: spans
    /// of one request keep its order and share one copy of each resource and scope entry.
    static func request(_ spans: [HeldSpan], _ open: inout RequestOpener) throws(OTLPDecodingError) -> [UInt8] {
        var byRequest: [ObjectIdentifier: Int] = [:]
        var groups: [[HeldSpan]] = []
        for span in spans {
            let key = ObjectIdentifier(span.request)
            if let known = byRequest[key] { groups[known].append(span) } else {
                byRequest[key] = groups.count
                groups.append([span])
            }
        }
        var out = WireWriter()
        var entry = WireWriter()
        var scopeBody = WireWriter()
        for var group in groups {
            group.sort { $0.start < $1.start }
            let request = group[0].request
            let opened = try open(request)
            do {
                let buffer = opened.buffer
                var current: (entry: Int, scope: Int)?
                func closeScope() { entry.lengthDelimited(field: 2, scopeBody.bytes); scopeBody.bytes.removeAll(keepingCapacity: true) }
                func closeEntry() { closeScope(); out.lengthDelimited(field: 1, entry.bytes); entry.bytes.removeAll(keepingCapacity: true) }
                for span in group {
                    let place = request.scopes[Int(span.scope)]
                    if current?.entry != place.resourceEntry {
                        if current != nil { closeEntry() }
                        for range in place.resourceEnvelope { entry.bytes.append(bytesOf: buffer[range]) }
                    } else if current?.scope != Int(span.scope) {
                        closeScope()
                    }
                    if current?.entry != place.resourceEntry || current?.scope != Int(span.scope) {
                        for range in place.scopeEnvelope { scopeBody.bytes.append(bytesOf: buffer[range]) }
                        current = (place.resourceEntry, Int(span.scope))
                    }
                    scopeBody.lengthDelimited(field: 2, buffer[span.body])
                }
                if current != nil { closeEntry() }
            }
        }
        return out.bytes
    }
}
