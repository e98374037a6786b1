import Testing
@testable import Kafka

/// librdkafka's repeated lines: one per shape of text a minute, and the next one says how many
/// were held back.
@Suite struct LogRepeatsTests {
    @Test func aRepeatedLineIsHeldBackAndCounted() {
        var repeats = LogRepeats()
        let start = ContinuousClock.now
        let refused = "librdkafka FAIL: ssl://127.0.0.1:45063/bootstrap: Connect failed: Connection refused (after 0ms in state CONNECT)"
        #expect(repeats.admit(refused, now: start) == 0)
        #expect(repeats.admit(refused.replacingOccurrences(of: "0ms", with: "3ms"), now: start + .seconds(1)) == nil)
        #expect(repeats.admit(refused, now: start + .seconds(59)) == nil)
        #expect(repeats.admit("librdkafka ERROR: certificate verify failed", now: start + .seconds(2)) == 0, "another line is not held back")
        #expect(repeats.admit(refused, now: start + .seconds(61)) == 2)
        #expect(repeats.admit(refused, now: start + .seconds(62)) == nil)
    }
}
