import Testing
@testable import OTLP

@Suite struct WireReaderTests {
    /// Fields of every shape, one after another: tags of one and two bytes, lengths of one and
    /// two bytes, varints, 64- and 32-bit values.
    static let fields: [[UInt8]] = [
        [0x0A, 0x03, 1, 2, 3],                          // field 1, length-delimited, 3 bytes
        [0x12, 0x00],                                   // field 2, empty
        [0x39] + [UInt8](repeating: 7, count: 8),       // field 7, 64-bit
        [0x30, 0x96, 0x01],                             // field 6, a two-byte varint
        [0x4A, 0x80, 0x01] + [UInt8](repeating: 9, count: 128),  // field 9, a two-byte length
        [0x7A, 0x7F] + [UInt8](repeating: 1, count: 127),         // field 15, the longest one-byte length
        [0x82, 0x01, 0x01, 0x05],                       // field 16: a two-byte tag
        [0x6D, 1, 2, 3, 4],                             // field 13, 32-bit
    ]

    @Test func theShortStepGoesWhereTagAndSkipGoAndDeclinesOtherShapes() throws {
        let message = Self.fields.flatMap { $0 }
        try message.withUnsafeBytes { buffer in
            var short = WireReader(buffer)
            var long = WireReader(buffer)
            var fastSteps = 0
            while !long.isAtEnd {
                let before = short.offset
                let (field, wireType) = try long.tag()
                try long.skip(wireType)
                if let number = short.skipUsualField() {
                    #expect(number == field)
                    fastSteps += 1
                } else {
                    #expect(short.offset == before, "a declined field is not read")
                    _ = try short.tag()
                    try short.skip(wireType)
                }
                #expect(short.offset == long.offset)
            }
            // Fields 1, 2, 7 and 15; the two-byte varint, length and tag and the 32-bit value decline.
            #expect(fastSteps == 4)
        }
    }

    @Test func aOneByteVarintIsSteppedOverAndEveryOtherShapeDeclined() throws {
        for bytes: [UInt8] in [[0x30, 0x02], [0x78, 0x7F]] {
            try bytes.withUnsafeBytes { buffer in
                var reader = WireReader(buffer)
                #expect(reader.skipOneByteVarint() == UInt64(bytes[0] >> 3))
                #expect(reader.isAtEnd)
                var long = WireReader(buffer)
                _ = try long.tag()
                try long.skip(.varint)
                #expect(long.offset == reader.offset)
            }
        }
        // A two-byte value, a value cut short, a length-delimited field, field number 0, a two-byte tag.
        for bytes: [UInt8] in [[0x30, 0x96, 0x01], [0x30], [0x30, 0x80], [0x0A, 0x00], [0x00, 0x01], [0x80, 0x01, 0x01]] {
            bytes.withUnsafeBytes { buffer in
                var reader = WireReader(buffer)
                #expect(reader.skipOneByteVarint() == nil, "\(bytes)")
                #expect(reader.offset == 0)
            }
        }
    }

    @Test func truncatedAndInvalidFieldsAreLeftToTheReaderThatWordsTheError() {
        let cases: [[UInt8]] = [
            [0x0A, 0x05, 1, 2],         // a length past the end
            [0x0A],                     // no length
            [0x39, 1, 2, 3],            // a 64-bit value cut short
            [0x02, 0x01, 0x00],         // field number 0
            [0x0F, 0x00],               // wire type 7
        ]
        for bytes in cases {
            bytes.withUnsafeBytes { buffer in
                var reader = WireReader(buffer)
                #expect(reader.skipUsualField() == nil, "\(bytes)")
                #expect(reader.offset == 0)
                #expect(throws: OTLPDecodingError.self) {
                    let (_, wireType) = try reader.tag()
                    try reader.skip(wireType)
                }
            }
        }
    }
}
