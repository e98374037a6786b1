import Testing
import Pipeline
@testable import Components

@Suite struct OTLPGRPCReceiverTests {
    @Test func statusMessagesArePercentEncodedAsGRPCRequires() {
        #expect(OTLPGRPCConnectionHandler.percentEncoded("plain text: ok") == "plain text: ok")
        #expect(OTLPGRPCConnectionHandler.percentEncoded("50% done\né") == "50%25 done%0A%C3%A9")
    }

    @Test func clientDeadlinesAreReadFromGRPCTimeout() {
        #expect(OTLPGRPCExport.timeout("10S") == .seconds(10))
        #expect(OTLPGRPCExport.timeout("250m") == .milliseconds(250))
        #expect(OTLPGRPCExport.timeout("2H") == .seconds(7200))
        #expect(OTLPGRPCExport.timeout("1M") == .seconds(60))
        #expect(OTLPGRPCExport.timeout("99999999u") == .microseconds(99_999_999))
        #expect(OTLPGRPCExport.timeout("5n") == .nanoseconds(5))
        #expect(OTLPGRPCExport.timeout("123456789S") == nil, "more than eight digits")
        #expect(OTLPGRPCExport.timeout("10") == nil)
        #expect(OTLPGRPCExport.timeout("S") == nil)
        #expect(OTLPGRPCExport.timeout("-1S") == nil)
    }

    @Test func metadataLeavesOutPseudoHeaders() {
        let metadata = OTLPGRPCExport.requestMetadata(RequestHeaders([(":path", "/x"), ("Tenant", "a"), ("tenant", "b"), ("te", "trailers")]))
        #expect(metadata.headers == ["tenant": ["a", "b"], "te": ["trailers"]])
    }
}
