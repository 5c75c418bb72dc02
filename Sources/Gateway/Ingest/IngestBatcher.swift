/// The decisions of the group-commit writer, without IO and without a clock of its
/// own: when to write a batch, which items it holds, when to retry after a failure
/// and which items have waited too long. ``IngestWriter`` drives it and does the
/// waiting and the SQL; tests drive it with made-up instants.
///
/// Items are written in arrival order. At most one batch is in flight; an item of
/// a batch that has to be retried goes back to the front of the queue with its
/// original arrival time, so it is in the next batch and still expires on time.
struct IngestBatcher<Element> {
    typealias Instant = ContinuousClock.Instant
    typealias ID = UInt64

    struct Entry {
        var id: ID
        var element: Element
        var enqueuedAt: Instant
        /// When the item is failed as unavailable if its row is not committed by then.
        var expiresAt: Instant
    }

    /// What the writer should do next.
    enum Step: Equatable {
        /// Take a batch (``takeBatch()``) and write it.
        case flush
        /// Nothing is queued and the database is not known to be reachable, or was last
        /// reached `idleProbeInterval` ago: check it, so that readiness follows the
        /// database without traffic (recovers after an outage, and notices one).
        case probe
        /// Nothing to do before this instant, or (nil) before something is queued.
        case wait(until: Instant?)
        /// Draining and nothing is left: the writer may stop.
        case finished
    }

    enum Health: Equatable {
        /// Nothing has been tried yet.
        case unknown
        /// The last batch or probe succeeded.
        case healthy
        /// The last batch or probe failed; the next try waits for the back-off.
        case failing
    }

    let maxSize: Int
    let maxDelay: Duration
    let timeout: Duration
    let initialBackoff: Duration
    let maxBackoff: Duration
    /// How long a healthy, idle writer trusts its last success before checking again.
    let idleProbeInterval: Duration

    private(set) var queue: [Entry] = []
    /// The batch being written, minus the items already answered or expired.
    private(set) var inFlight: [Entry] = []
    private(set) var isDraining = false
    private(set) var health = Health.unknown
    /// No batch or probe before this instant (set after a failure).
    private(set) var retryAt: Instant?
    /// When a batch or probe last succeeded.
    private(set) var lastSuccessAt: Instant?
    /// The back-off applied after the next failure.
    private(set) var nextBackoff: Duration
    private var nextID: ID = 0

    init(
        maxSize: Int, maxDelay: Duration, timeout: Duration,
        initialBackoff: Duration = .milliseconds(50), maxBackoff: Duration = .seconds(2),
        idleProbeInterval: Duration = .seconds(5)
    ) {
        precondition(maxSize > 0, "a batch holds at least one item")
        self.maxSize = maxSize
        self.maxDelay = maxDelay
        self.timeout = timeout
        self.initialBackoff = initialBackoff
        self.maxBackoff = maxBackoff
        self.idleProbeInterval = idleProbeInterval
        self.nextBackoff = initialBackoff
    }

    /// How many items wait for their row to be committed (queued or in flight).
    var pendingCount: Int { queue.count + inFlight.count }

    // MARK: Queueing

    /// Queues an item and returns its id. (The writer decides when its loop must look
    /// again: ``IngestWriter``'s mailbox wakes it for the first item and a full batch.)
    @discardableResult
    mutating func enqueue(_ element: Element, now: Instant) -> ID {
        nextID += 1
        queue.append(Entry(id: nextID, element: element, enqueuedAt: now, expiresAt: now + timeout))
        return nextID
    }

    /// From now on everything queued is written without waiting for company, and
    /// ``nextStep(now:)`` says `.finished` once nothing is left.
    mutating func drain() {
        isDraining = true
    }

    // MARK: Deciding

    func nextStep(now: Instant) -> Step {
        if queue.isEmpty {
            if isDraining, inFlight.isEmpty { return .finished }
            if health == .healthy, let lastSuccessAt {
                // An idle gateway writes nothing, so without this check an outage
                // would go unnoticed (and /readyz stay 200) until the next message.
                let due = lastSuccessAt + idleProbeInterval
                return now >= due ? .probe : .wait(until: due)
            }
            if let retryAt, now < retryAt { return .wait(until: retryAt) }
            return .probe
        }
        if let retryAt, now < retryAt { return .wait(until: retryAt) }
        if isDraining || queue.count >= maxSize { return .flush }
        let due = queue[0].enqueuedAt + maxDelay
        return now >= due ? .flush : .wait(until: due)
    }

    // MARK: Batches

    /// Moves the oldest items, at most `maxSize`, from the queue to the batch in
    /// flight and returns them.
    mutating func takeBatch() -> [Entry] {
        precondition(inFlight.isEmpty, "one batch at a time")
        let count = min(maxSize, queue.count)
        inFlight = Array(queue.prefix(count))
        queue.removeFirst(count)
        return inFlight
    }

    /// Forgets answered items of the batch in flight (committed or refused).
    mutating func complete(_ ids: some Sequence<ID>) {
        let done = Set(ids)
        inFlight.removeAll { done.contains($0.id) }
    }

    /// Ends the batch in flight: what is left of it goes back to the front of the
    /// queue. After a failure the next try waits for the back-off, which doubles up
    /// to `maxBackoff`; a success resets it.
    mutating func finishBatch(failed: Bool, now: Instant) {
        queue.insert(contentsOf: inFlight, at: 0)
        inFlight = []
        record(failed: failed, now: now)
    }

    /// Records the outcome of a reachability probe.
    mutating func finishProbe(failed: Bool, now: Instant) {
        record(failed: failed, now: now)
    }

    private mutating func record(failed: Bool, now: Instant) {
        if failed {
            health = .failing
            retryAt = now + nextBackoff
            nextBackoff = min(nextBackoff * 2, maxBackoff)
        } else {
            health = .healthy
            retryAt = nil
            lastSuccessAt = now
            nextBackoff = initialBackoff
        }
    }

    // MARK: Expiry

    /// Removes and returns the items, queued or in flight, that have waited
    /// `timeout` or longer. An expired item of the batch in flight may still be
    /// committed; it is then simply not answered here (the station retries and gets
    /// the receipt's answer).
    mutating func expire(now: Instant) -> [Entry] {
        var expired: [Entry] = []
        for entry in inFlight where entry.expiresAt <= now { expired.append(entry) }
        for entry in queue where entry.expiresAt <= now { expired.append(entry) }
        guard !expired.isEmpty else { return [] }
        inFlight.removeAll { $0.expiresAt <= now }
        queue.removeAll { $0.expiresAt <= now }
        return expired
    }

    /// Removes and returns everything (the writer is stopping without a flush).
    mutating func removeAll() -> [Entry] {
        defer {
            queue = []
            inFlight = []
        }
        return inFlight + queue
    }
}

extension IngestBatcher: Sendable where Element: Sendable {}
extension IngestBatcher.Entry: Sendable where Element: Sendable {}
