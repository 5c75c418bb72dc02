import Testing

@testable import Gateway

/// The group-commit decisions, driven with made-up instants: no IO, no sleeping.
@Suite("Ingest batcher")
struct IngestBatcherTests {
    typealias Batcher = IngestBatcher<String>

    let start = ContinuousClock.now

    func at(milliseconds: Int) -> ContinuousClock.Instant {
        start + .milliseconds(milliseconds)
    }

    func makeBatcher(
        maxSize: Int = 3, maxDelay: Duration = .milliseconds(5), timeout: Duration = .seconds(20)
    )
        -> Batcher
    {
        var batcher = Batcher(maxSize: maxSize, maxDelay: maxDelay, timeout: timeout)
        // As after a successful start-up probe.
        batcher.finishProbe(failed: false, now: start)
        return batcher
    }

    @Test("a fresh batcher probes the database while idle, then waits for work")
    func probesFirst() {
        var batcher = Batcher(maxSize: 3, maxDelay: .milliseconds(5), timeout: .seconds(20))
        #expect(batcher.health == .unknown)
        #expect(batcher.nextStep(now: start) == .probe)
        batcher.finishProbe(failed: false, now: start)
        #expect(batcher.health == .healthy)
        #expect(batcher.nextStep(now: start) == .wait(until: start + batcher.idleProbeInterval))
    }

    @Test("a healthy idle batcher probes again after idleProbeInterval, counted from its last success")
    func probesWhileIdleAndHealthy() {
        var batcher = makeBatcher()
        let interval = batcher.idleProbeInterval
        #expect(batcher.nextStep(now: start + interval / 2) == .wait(until: start + interval))
        #expect(batcher.nextStep(now: start + interval) == .probe)
        // A committed batch is a success too: the next probe moves out.
        _ = batcher.enqueue("a", now: start + interval)
        _ = batcher.takeBatch()
        batcher.complete(batcher.inFlight.map(\.id))
        batcher.finishBatch(failed: false, now: start + interval)
        #expect(batcher.nextStep(now: start + interval) == .wait(until: start + interval * 2))
        // A failed probe turns the batcher failing: back-off probes take over.
        batcher.finishProbe(failed: true, now: start + interval * 2)
        #expect(batcher.health == .failing)
        #expect(batcher.nextStep(now: start + interval * 2) == .wait(until: start + interval * 2 + .milliseconds(50)))
    }

    @Test("the first item starts the timer; the batch is flushed maxDelay after it")
    func flushesAfterDelay() {
        var batcher = makeBatcher()
        batcher.enqueue("a", now: at(milliseconds: 0))
        #expect(batcher.nextStep(now: at(milliseconds: 0)) == .wait(until: at(milliseconds: 5)))
        batcher.enqueue("b", now: at(milliseconds: 2))
        #expect(batcher.nextStep(now: at(milliseconds: 2)) == .wait(until: at(milliseconds: 5)))
        #expect(batcher.nextStep(now: at(milliseconds: 5)) == .flush)
        let batch = batcher.takeBatch()
        #expect(batch.map(\.element) == ["a", "b"])
        #expect(batcher.queue.isEmpty)
        #expect(batcher.inFlight.count == 2)
    }

    @Test("a full batch is flushed at once and takes at most maxSize items, oldest first")
    func flushesWhenFull() {
        var batcher = makeBatcher(maxSize: 3)
        for item in ["a", "b"] { batcher.enqueue(item, now: start) }
        #expect(batcher.nextStep(now: start) == .wait(until: start + .milliseconds(5)))
        for item in ["c", "d"] { batcher.enqueue(item, now: start) }
        #expect(batcher.nextStep(now: start) == .flush)
        #expect(batcher.takeBatch().map(\.element) == ["a", "b", "c"])
        #expect(batcher.queue.map(\.element) == ["d"])
    }

    @Test("items that arrive while a batch is in flight wait for the next batch")
    func accumulatesDuringFlight() {
        var batcher = makeBatcher(maxSize: 2)
        _ = batcher.enqueue("a", now: start)
        _ = batcher.takeBatch()
        _ = batcher.enqueue("b", now: at(milliseconds: 1))
        _ = batcher.enqueue("c", now: at(milliseconds: 1))
        _ = batcher.enqueue("d", now: at(milliseconds: 1))
        batcher.complete(batcher.inFlight.map(\.id))
        batcher.finishBatch(failed: false, now: at(milliseconds: 2))
        #expect(batcher.nextStep(now: at(milliseconds: 2)) == .flush)
        #expect(batcher.takeBatch().map(\.element) == ["b", "c"])
        #expect(batcher.queue.map(\.element) == ["d"])
    }

    @Test("a failed batch goes back to the front and is retried after a back-off doubling to 2 s")
    func backsOff() {
        var batcher = makeBatcher()
        _ = batcher.enqueue("a", now: start)
        _ = batcher.enqueue("b", now: start)
        _ = batcher.takeBatch()
        _ = batcher.enqueue("c", now: at(milliseconds: 1))

        batcher.finishBatch(failed: true, now: at(milliseconds: 10))
        #expect(batcher.health == .failing)
        #expect(batcher.queue.map(\.element) == ["a", "b", "c"])
        #expect(batcher.nextStep(now: at(milliseconds: 10)) == .wait(until: at(milliseconds: 60)))
        #expect(batcher.nextStep(now: at(milliseconds: 60)) == .flush)

        var now = 60
        var delays: [Int] = []
        for _ in 0..<8 {
            _ = batcher.takeBatch()
            batcher.finishBatch(failed: true, now: at(milliseconds: now))
            guard case .wait(let until?) = batcher.nextStep(now: at(milliseconds: now)) else {
                Issue.record("expected a back-off")
                return
            }
            let delay = at(milliseconds: now).duration(to: until)
            delays.append(Int(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000))
            now += delays.last!
        }
        #expect(delays == [100, 200, 400, 800, 1600, 2000, 2000, 2000])

        _ = batcher.takeBatch()
        batcher.complete(batcher.inFlight.map(\.id))
        batcher.finishBatch(failed: false, now: at(milliseconds: now))
        #expect(batcher.health == .healthy)
        #expect(batcher.retryAt == nil)
        #expect(batcher.nextBackoff == .milliseconds(50))
    }

    @Test("unanswered items of a committed batch are written again at once, without back-off")
    func retriesUnresolvedAtOnce() {
        var batcher = makeBatcher(maxDelay: .milliseconds(5))
        let a = batcher.enqueue("a", now: start)
        _ = batcher.enqueue("b", now: start)
        _ = batcher.takeBatch()
        _ = batcher.enqueue("c", now: at(milliseconds: 8))
        batcher.complete([a])
        batcher.finishBatch(failed: false, now: at(milliseconds: 8))
        #expect(batcher.queue.map(\.element) == ["b", "c"])
        // "b" arrived at 0 ms, so its batch is due already.
        #expect(batcher.nextStep(now: at(milliseconds: 8)) == .flush)
    }

    @Test("items expire after the timeout, queued or in flight, and are not retried after")
    func expires() {
        var batcher = makeBatcher(maxSize: 2, timeout: .seconds(1))
        _ = batcher.enqueue("a", now: at(milliseconds: 0))
        _ = batcher.enqueue("b", now: at(milliseconds: 100))
        _ = batcher.takeBatch()
        _ = batcher.enqueue("c", now: at(milliseconds: 200))
        _ = batcher.enqueue("d", now: at(milliseconds: 900))

        #expect(batcher.expire(now: at(milliseconds: 999)).isEmpty)
        #expect(batcher.expire(now: at(milliseconds: 1000)).map(\.element) == ["a"])
        #expect(batcher.expire(now: at(milliseconds: 1200)).map(\.element) == ["b", "c"])
        #expect(batcher.inFlight.isEmpty)
        #expect(batcher.pendingCount == 1)

        batcher.finishBatch(failed: true, now: at(milliseconds: 1200))
        #expect(batcher.queue.map(\.element) == ["d"])
    }

    @Test("an idle batcher whose database failed probes it after the back-off")
    func probesWhileFailing() {
        var batcher = makeBatcher()
        _ = batcher.enqueue("a", now: start)
        _ = batcher.takeBatch()
        batcher.finishBatch(failed: true, now: start)
        _ = batcher.expire(now: start + .seconds(20))
        #expect(batcher.pendingCount == 0)
        #expect(batcher.nextStep(now: at(milliseconds: 10)) == .wait(until: at(milliseconds: 50)))
        #expect(batcher.nextStep(now: at(milliseconds: 50)) == .probe)
        batcher.finishProbe(failed: true, now: at(milliseconds: 50))
        #expect(batcher.nextStep(now: at(milliseconds: 50)) == .wait(until: at(milliseconds: 150)))
        batcher.finishProbe(failed: false, now: at(milliseconds: 150))
        #expect(
            batcher.nextStep(now: at(milliseconds: 150))
                == .wait(until: at(milliseconds: 150) + batcher.idleProbeInterval))
    }

    @Test("draining flushes without waiting for company and finishes when nothing is left")
    func drains() {
        var batcher = makeBatcher(maxSize: 2, maxDelay: .seconds(10))
        _ = batcher.enqueue("a", now: start)
        _ = batcher.enqueue("b", now: start)
        _ = batcher.enqueue("c", now: start)
        _ = batcher.takeBatch()
        batcher.drain()
        batcher.complete(batcher.inFlight.map(\.id))
        batcher.finishBatch(failed: false, now: start)
        #expect(batcher.nextStep(now: start) == .flush)
        _ = batcher.takeBatch()
        #expect(batcher.nextStep(now: start) != .finished)
        batcher.complete(batcher.inFlight.map(\.id))
        batcher.finishBatch(failed: false, now: start)
        #expect(batcher.nextStep(now: start) == .finished)
    }

    @Test("draining still waits for the back-off of a failed batch")
    func drainingRespectsBackoff() {
        var batcher = makeBatcher()
        _ = batcher.enqueue("a", now: start)
        _ = batcher.takeBatch()
        batcher.drain()
        batcher.finishBatch(failed: true, now: start)
        #expect(batcher.nextStep(now: start) == .wait(until: at(milliseconds: 50)))
        #expect(batcher.nextStep(now: at(milliseconds: 50)) == .flush)
    }

    @Test("removeAll empties queue and batch in flight")
    func removesAll() {
        var batcher = makeBatcher(maxSize: 1)
        _ = batcher.enqueue("a", now: start)
        _ = batcher.enqueue("b", now: start)
        _ = batcher.takeBatch()
        #expect(batcher.removeAll().map(\.element) == ["a", "b"])
        #expect(batcher.pendingCount == 0)
    }
}
