import Testing
@testable import Components

@Suite struct OTLPGRPCReceiverTests {
    @Test func statusMessagesArePercentEncodedAsGRPCRequires() {
        #expect(OTLPGRPCConnectionHandler.percentEncoded("plain text: ok") == "plain text: ok")
        #expect(OTLPGRPCConnectionHandler.percentEncoded("50% done\né") == "50%25 done%0A%C3%A9")
    }

    @Test func metadataLeavesOutPseudoHeaders() {
        let metadata = OTLPGRPCExport.requestMetadata([(":path", "/x"), ("Tenant", "a"), ("tenant", "b"), ("te", "trailers")])
        #expect(metadata.headers == ["tenant": ["a", "b"], "te": ["trailers"]])
    }
}
