import Pipeline
import Testing

/// The one backoff every retry loop waits through: growth, ceiling, jitter bounds, the elapsed
/// limit and the stop check, without sleeping where the clock can be given.
@Suite struct BackoffTests {
    @Test func growsByTheMultiplierUpToTheMaximum() {
        let backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(1), multiplier: 3)
        #expect((0..<5).map { backoff.delay(attempt: $0) } == [.milliseconds(100), .milliseconds(300), .milliseconds(900), .seconds(1), .seconds(1)])
        #expect(backoff.delay(attempt: 10_000) == .seconds(1))
    }

    @Test func jitterStaysInItsBounds() {
        let proportional = Backoff(initial: .seconds(10), maximum: .seconds(10), jitter: .proportional(0.5))
        let upperHalf = Backoff(initial: .seconds(10), maximum: .seconds(10), jitter: .upperHalf)
        var seen = Set<Duration>()
        for _ in 0..<200 {
            let a = proportional.delay(attempt: 0), b = upperHalf.delay(attempt: 0)
            #expect(a >= .seconds(5) && a <= .seconds(15))
            #expect(b >= .seconds(5) && b <= .seconds(10))
            seen.insert(a)
        }
        #expect(seen.count > 1, "jitter never varied the wait")
    }

    @Test func aRunEndsBeforeAWaitWouldPassTheLimit() {
        let backoff = Backoff(initial: .seconds(1), maximum: .seconds(4), maxElapsed: .seconds(10))
        let start = ContinuousClock.now
        var run = backoff.start(at: start)
        #expect(run.next(now: start) == .seconds(1))
        #expect(run.next(now: start + .seconds(1)) == .seconds(2))
        #expect(run.next(now: start + .seconds(3)) == .seconds(4))
        #expect(run.next(now: start + .seconds(7)) == nil) // 7 s + 4 s would pass 10 s
        #expect(run.attempt == 3)
        #expect(run.next(hint: .seconds(2), now: start + .seconds(7)) == .seconds(2)) // a retry-after that fits
    }

    @Test func withoutALimitARunGoesOnForEver() {
        var run = Backoff(initial: .seconds(1), maximum: .seconds(30)).start(at: .now)
        #expect(run.next(now: .now + .seconds(86_400 * 365)) == .seconds(1))
    }

    @Test func waitReportsStopAndExpiryWithoutWaiting() async {
        var stopped = Backoff(initial: .seconds(3600), maximum: .seconds(3600)).start()
        #expect(await stopped.wait(stop: { true }) == .stopped)
        var expired = Backoff(initial: .seconds(3600), maximum: .seconds(3600), maxElapsed: .seconds(1)).start()
        var heard: [Duration] = []
        #expect(await expired.wait(before: { heard.append($0) }) == .expired)
        #expect(heard.isEmpty)
        var short = Backoff(initial: .milliseconds(1), maximum: .milliseconds(1)).start()
        #expect(await short.wait(before: { heard.append($0) }) == .waited)
        #expect(heard == [.milliseconds(1)])
    }

    @Test func retryOnFailureMapsToIt() {
        var settings = RetrySettings()
        settings.max_elapsed_time = .seconds(60)
        let bounded = settings.backoff()
        #expect(bounded.initial == .seconds(5) && bounded.maximum == .seconds(30) && bounded.multiplier == 1.5)
        #expect(bounded.maxElapsed == .seconds(60))
        #expect(settings.backoff(unbounded: true).maxElapsed == nil)
        settings.max_elapsed_time = .zero
        #expect(settings.backoff().maxElapsed == nil) // 0 retries for ever, as in Go
    }
}
