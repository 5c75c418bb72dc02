import Logging
import Metrics
import NIOCore
import NIOPosix
import OCPP
import PostgresNIO
import ServiceLifecycle
import Shared
import Synchronization

/// Why a work item was not made durable. The caller answers a CALL with CALLERROR
/// InternalError, so that the station retries later.
enum IngestError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The row was not committed within `ingestTimeout` (the database is down or
    /// slow), or the writer stopped before it could be written.
    case unavailable
    /// The writer is shutting down and takes no new items.
    case shuttingDown
    /// The database refused this item's data (it was written alone to find out);
    /// retrying it would fail again.
    case rejected(String)

    var description: String {
        switch self {
        case .unavailable: "the database did not commit the message in time"
        case .shuttingDown: "the gateway is shutting down"
        case .rejected(let reason): "the database refused the message: \(reason)"
        }
    }
}

/// Counts for tests and diagnostics.
struct IngestStatistics: Sendable, Equatable {
    /// Batch statements sent (each attempt, failed ones included).
    var statements = 0
    /// Batch statements that committed.
    var committedBatches = 0
    /// Batch statements that failed.
    var failedAttempts = 0
    /// Items answered from a committed batch (new rows and duplicates).
    var committedItems = 0
    /// Turns of the flush loop: each takes the mailbox and does one step.
    var loopTurns = 0
}

/// The gateway's group-commit writer of `ocpp.inbox` (invariants 1 to 4).
///
/// Connections submit their rows and get the outcome once the row is committed: on
/// their event loop (``submit(_:on:answering:)``), or suspended (``submit(_:)``);
/// rows from all connections are written together by ``IngestBatchStatement``, one
/// statement per batch, flushed when the batch is full (`batchMaxSize`) or
/// `batchMaxDelay` after its first row. The decisions live in ``IngestBatcher``;
/// this type does the waiting, the SQL and the answering.
///
/// Why an actor and not a class with a lock: the flush loop must sleep until a
/// deadline or until it is woken, and the batcher and the waiting submissions are
/// its state. An actor gives both without blocking a thread, and its reentrancy is
/// exactly the batching we want: while the loop awaits the database, submissions
/// keep entering the actor and fill the next batch.
///
/// Submissions enter through a mailbox (``submit(_:on:answering:)``): a
/// connection's event loop appends its item under a lock and goes on, and the flush
/// loop takes everything that arrived each time it looks for work. Only a
/// submission to an idle writer, or one that fills a batch, wakes the loop (a task);
/// the others wait in the mailbox for the batch's deadline or the end of the
/// statement in flight. A task and an actor hop per message had cost the gateway
/// about as much CPU as the message's protocol work (docs/BENCHMARKS.md, "Where the
/// gateway's time goes"). The mailbox keeps the order of submission, so a station's
/// session events and CALLs are journaled in the order they happened.
///
/// Why one statement in flight at a time: the batch size adapts by itself (while a
/// statement runs, the next batch accumulates; the slower the database, the larger
/// the batches), each gateway holds only one pool connection for ingest, and rows
/// are committed in arrival order, so a station's messages never overtake each
/// other. Throughput comes from batch size, not from parallel statements.
///
/// Failures: a database error (server down, connection lost, deadlock) puts the
/// batch back and retries it after a back-off of 50 ms doubling to 2 s. No item is
/// answered unless its row is committed; an item that waits `ingestTimeout` fails
/// with ``IngestError/unavailable``. Retrying after an unknown commit outcome is
/// safe: the receipts make the second write of a CALL a duplicate with the same
/// answer. A data error (SQLSTATE classes 22, 23 and 54, e.g. a station deleted
/// meanwhile) splits the batch until the offending item is alone, which fails with
/// ``IngestError/rejected(_:)``; the others are written.
actor IngestWriter: Service {
    typealias Instant = ContinuousClock.Instant

    let gatewayID: String
    private let client: PostgresClient
    private let logger: Logger
    private let clock = ContinuousClock()
    /// Times the writer's waits (``EventLoop/sleep(for:)`` says why not `Task.sleep`).
    private let eventLoop: any EventLoop
    /// Called after every committed batch (``InboxNotifier/batchCommitted()``).
    private let committed: @Sendable () -> Void

    private var batcher: IngestBatcher<WorkItem>
    private var waiters: [IngestBatcher<WorkItem>.ID: Waiter] = [:]
    /// Submissions not yet in the batcher; the flush loop takes them (``takeMailbox(closing:)``).
    private let mailbox = Mutex(Mailbox())
    /// The batcher's batch size, for the submitters' decision to wake the loop.
    private nonisolated let batchMaxSize: Int
    /// The flush loop, while it waits for a deadline or for work.
    private var loopWaiter: CheckedContinuation<Void, Never>?
    private var wakeTimer: Scheduled<Void>?
    /// The write of the batch in flight, given up when all its items have expired.
    private var inFlightWrite: InFlightWrite?
    /// A reachability probe in progress, cancelled by shutdown.
    private var probeTask: Task<(any Error)?, Never>?
    private var isAccepting = true
    /// Whether the last batch (or probe) reached the database; read by `/readyz`.
    private let reachable = Atomic<Bool>(false)

    /// Counts of statements and batches, for tests.
    private(set) var statistics = IngestStatistics()

    /// Items waiting for their row to be committed (queued or in flight).
    var pendingCount: Int { batcher.pendingCount + mailbox.withLock { $0.submissions.count } }

    private let batchSizes = Recorder(label: "ocpp_gateway_ingest_batch_size")
    private let commitLatency = Metrics.Timer(label: "ocpp_gateway_ingest_commit_seconds")
    private let failedBatches = Counter(label: "ocpp_gateway_ingest_failed_batches_total")

    /// - Parameters:
    ///   - client: the pool; its `run()` must be running (list it before the writer
    ///     in the ServiceGroup, so it shuts down after the writer has flushed).
    ///   - gatewayID: this instance's name, stored in each row.
    ///   - committed: called after each committed batch (the workers' wake-up).
    init(
        client: PostgresClient,
        gatewayID: String,
        batchMaxSize: Int = 500,
        batchMaxDelay: Duration = .milliseconds(15),
        ingestTimeout: Duration = .seconds(20),
        eventLoop: any EventLoop = NIOSingletons.posixEventLoopGroup.any(),
        logger: Logger,
        committed: @escaping @Sendable () -> Void = {}
    ) {
        self.committed = committed
        self.eventLoop = eventLoop
        self.client = client
        self.gatewayID = gatewayID
        self.logger = logger
        self.batcher = IngestBatcher(maxSize: batchMaxSize, maxDelay: batchMaxDelay, timeout: ingestTimeout)
        self.batchMaxSize = batchMaxSize
    }

    init(
        client: PostgresClient, settings: GatewaySettings, logger: Logger,
        committed: @escaping @Sendable () -> Void = {}
    ) {
        self.init(
            client: client, gatewayID: settings.gatewayID, batchMaxSize: settings.batchMaxSize,
            batchMaxDelay: settings.batchMaxDelay, ingestTimeout: settings.ingestTimeout, logger: logger,
            committed: committed)
    }

    /// False until a batch (or the start-up probe) reaches the database, and after
    /// a failed one until one succeeds. While failing and idle the writer probes the
    /// database with the back-off, so readiness recovers without traffic; while
    /// healthy and idle it probes every few seconds, so an outage is noticed too.
    nonisolated var isDatabaseReachable: Bool {
        reachable.load(ordering: .relaxed)
    }

    // MARK: Submitting

    /// What a submission is answered with: called once.
    typealias Completion = @Sendable (Result<IngestOutcome, any Error>) -> Void

    /// A submission's completion, and the event loop it is called on (nil: any thread).
    private struct Waiter {
        var eventLoop: (any EventLoop)?
        var completion: Completion
    }

    private struct Submission {
        var item: WorkItem
        var waiter: Waiter
        var submittedAt: Instant
    }

    private struct Mailbox {
        var submissions: [Submission] = []
        /// The flush loop waits with nothing queued: the next submission wakes it.
        var loopIsIdle = false
        /// Items in the batcher when the loop last began to wait: with the
        /// submissions, whether a batch is full.
        var queued = 0
        /// A task to wake the loop is on its way.
        var wakeRequested = false
        /// Shut down: submissions are refused at once.
        var isClosed = false
    }

    /// Makes the item durable and returns what may be sent to the station: returns
    /// only once the item's row is committed (or, for a retransmission, was committed
    /// before). Throws ``IngestError``.
    nonisolated func submit(_ item: WorkItem) async throws -> IngestOutcome {
        try await withCheckedThrowingContinuation { continuation in
            enqueue(item, Waiter(eventLoop: nil) { continuation.resume(with: $0) })
        }
    }

    /// ``submit(_:)`` without a task, for a connection's event loop, which must not
    /// wait: `completion` gets what ``submit(_:)`` returns or throws, on `eventLoop`.
    /// The answers of one batch reach each event loop together, in one wake-up.
    nonisolated func submit(_ item: WorkItem, on eventLoop: any EventLoop, answering completion: @escaping Completion) {
        enqueue(item, Waiter(eventLoop: eventLoop, completion: completion))
    }

    private nonisolated func enqueue(_ item: WorkItem, _ waiter: Waiter) {
        do {
            try Self.validate(item)
        } catch {
            return Self.deliver([(waiter, .failure(error))])
        }
        let submission = Submission(item: item, waiter: waiter, submittedAt: .now)
        let outcome = mailbox.withLock { mailbox -> (closed: Bool, wake: Bool) in
            guard !mailbox.isClosed else { return (true, false) }
            mailbox.submissions.append(submission)
            // The submission that fills a batch wakes the loop once; a queue already
            // full is waiting for its retry, which more items do not bring forward.
            let isFull = mailbox.queued + mailbox.submissions.count == batchMaxSize
            guard !mailbox.wakeRequested, mailbox.loopIsIdle || isFull else {
                return (false, false)
            }
            mailbox.wakeRequested = true
            return (false, true)
        }
        if outcome.closed { return Self.deliver([(waiter, .failure(IngestError.shuttingDown))]) }
        if outcome.wake { Task { await self.wakeLoop() } }
    }

    /// Moves every submission that has arrived into the batcher; `closing`: and
    /// refuses every later one.
    private func takeMailbox(closing: Bool = false) {
        let submissions = mailbox.withLock { mailbox in
            defer { mailbox.submissions = [] }
            if closing { mailbox.isClosed = true }
            return mailbox.submissions
        }
        guard isAccepting else {
            return Self.deliver(submissions.map { ($0.waiter, .failure(IngestError.shuttingDown)) })
        }
        for submission in submissions {
            // As of its submission: its deadline and timeout count from then.
            let id = batcher.enqueue(submission.item, now: submission.submittedAt)
            waiters[id] = submission.waiter
        }
    }

    /// Before the loop waits, with `queued` items in the batcher: whether it may.
    /// With nothing queued, the next submission is to wake it; false when one came
    /// meanwhile. With a batch begun, submissions wait for its deadline in the
    /// mailbox, unless they fill it; false when they have filled it meanwhile (their
    /// wake-up may have come before this wait). With the mailbox empty, the wait is
    /// the batcher's decision (a deadline, a retry's back-off) and is kept.
    private func mayPause(queued: Int) -> Bool {
        mailbox.withLock { mailbox in
            mailbox.wakeRequested = false
            mailbox.queued = queued
            guard mailbox.submissions.isEmpty || queued + mailbox.submissions.count < batchMaxSize else {
                return false
            }
            guard queued == 0 else { return true }
            guard mailbox.submissions.isEmpty else { return false }
            mailbox.loopIsIdle = true
            return true
        }
    }

    /// What the database would refuse, refused before it costs a batch. (What each
    /// kind of row needs, its case of ``WorkItem`` holds.)
    private static func validate(_ item: WorkItem) throws(IngestError) {
        guard !item.payloadHoldsNUL else {
            throw .rejected("a string in the payload holds U+0000, which PostgreSQL cannot store")
        }
    }

    // MARK: Running

    /// Writes batches until graceful shutdown (then flushes what is queued) or
    /// cancellation (then fails what is left with ``IngestError/unavailable``).
    nonisolated func run() async throws {
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await withDiscardingTaskGroup { group in
                    group.addTask { await self.expiryLoop() }
                    await self.flushLoop()
                    group.cancelAll()
                }
            } onGracefulShutdown: {
                Task { await self.shutdown() }
            }
        } onCancel: {
            Task { await self.wakeLoop() }
        }
    }

    /// Stops taking items and writes the queued ones; ``run()`` returns when they
    /// are answered. Called by graceful shutdown; callable directly (tests).
    func shutdown() {
        guard isAccepting else { return }
        // What was submitted before the shutdown is written; nothing after it.
        takeMailbox(closing: true)
        logger.debug("ingest writer draining", metadata: ["pending": "\(batcher.pendingCount)"])
        isAccepting = false
        batcher.drain()
        probeTask?.cancel()
        wakeLoop()
    }

    private func flushLoop() async {
        defer { stop() }
        while !Task.isCancelled {
            statistics.loopTurns += 1
            takeMailbox()
            switch batcher.nextStep(now: clock.now) {
            case .finished: return
            case .wait(let deadline):
                // Nothing is in flight while the loop waits: what is pending is queued.
                guard mayPause(queued: batcher.pendingCount) else { continue }
                await pause(until: deadline)
                mailbox.withLock { $0.loopIsIdle = false }
            case .probe: await probe()
            case .flush: await flush()
            }
        }
    }

    /// After the loop: nothing more is taken, and whatever is left fails.
    private func stop() {
        isAccepting = false
        takeMailbox(closing: true)
        wakeTimer?.cancel()
        wakeTimer = nil
        let left = batcher.removeAll()
        if !left.isEmpty {
            logger.warning("ingest writer stopped with unwritten messages", metadata: ["count": "\(left.count)"])
        }
        // Every item left, queued or in flight, has its waiter.
        answer(waiters.keys.map { ($0, .failure(IngestError.unavailable)) })
    }

    private func pause(until deadline: Instant?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loopWaiter = continuation
            if let deadline {
                // Woken early (a full batch, shutdown), the timer is cancelled and
                // costs nothing more; a task is made only when it fires.
                wakeTimer = eventLoop.scheduleTask(in: TimeAmount(clock.now.duration(to: deadline))) {
                    [weak self] in
                    Task { await self?.wakeLoop() }
                }
            }
        }
        wakeTimer?.cancel()
        wakeTimer = nil
    }

    private func wakeLoop() {
        guard let loopWaiter else { return }
        self.loopWaiter = nil
        loopWaiter.resume()
    }

    /// Fails items that have waited too long, including those of the batch in flight
    /// (a hung connection must not hold stations' answers beyond the timeout).
    private func expiryLoop() async {
        let interval = max(.milliseconds(10), min(.seconds(1), batcher.timeout / 10))
        while true {
            do { try await eventLoop.sleep(for: interval) } catch { return }
            let expired = batcher.expire(now: clock.now)
            guard !expired.isEmpty else { continue }
            logger.warning(
                "messages not committed within the ingest timeout", metadata: ["count": "\(expired.count)"])
            answer(expired.map { ($0.id, .failure(IngestError.unavailable)) })
            // Nobody waits for the batch in flight any more: stop waiting for the
            // database (a lease can wait a minute for an unreachable server, and a
            // statement on a connection that closed as it was leased is never
            // answered), so that the loop moves on and a shutdown is not held up.
            if batcher.inFlight.isEmpty, let inFlightWrite {
                inFlightWrite.abandon(because: IngestError.unavailable)
            }
            // While draining, the loop may be waiting for a retry that is now moot.
            wakeLoop()
        }
    }

    private func answer(_ answers: [(IngestBatcher<WorkItem>.ID, Result<IngestOutcome, any Error>)]) {
        Self.deliver(answers.compactMap { id, result in waiters.removeValue(forKey: id).map { ($0, result) } })
    }

    /// Calls each waiter's completion: those of one event loop together, in one task
    /// on that loop (one wake-up for all of them, not one each); the others at once.
    private static func deliver(_ answers: [(Waiter, Result<IngestOutcome, any Error>)]) {
        var byLoop:
            [ObjectIdentifier: (loop: any EventLoop, answers: [(Completion, Result<IngestOutcome, any Error>)])] =
                [:]
        for (waiter, result) in answers {
            guard let loop = waiter.eventLoop else {
                waiter.completion(result)
                continue
            }
            byLoop[ObjectIdentifier(loop), default: (loop, [])].answers.append((waiter.completion, result))
        }
        for (loop, answers) in byLoop.values {
            loop.execute {
                for (completion, result) in answers { completion(result) }
            }
        }
    }

    // MARK: Writing

    private func flush() async {
        let batch = batcher.takeBatch()
        batchSizes.record(batch.count)
        let write = InFlightWrite(writing: batch[...], with: self)
        inFlightWrite = write
        let (results, failure) = await withTaskCancellationHandler {
            await write.result()
        } onCancel: {
            write.abandon(because: CancellationError())
        }
        inFlightWrite = nil
        var answers: [(IngestBatcher<WorkItem>.ID, Result<IngestOutcome, any Error>)] = []
        for entry in batch {
            switch results[entry.id] {
            case .committed(let outcome)?:
                statistics.committedItems += 1
                answers.append((entry.id, .success(outcome)))
            case .rejected(let error)?:
                answers.append((entry.id, .failure(error)))
            case .unresolved?, nil:
                break  // written again in a later batch
            }
        }
        answer(answers)
        batcher.complete(answers.map(\.0))
        batcher.finishBatch(failed: failure != nil, now: clock.now)
    }

    fileprivate enum ItemResult {
        case committed(IngestOutcome)
        case unresolved
        case rejected(IngestError)
    }

    fileprivate typealias WriteResult = (results: [IngestBatcher<WorkItem>.ID: ItemResult], failure: (any Error)?)

    /// Writes `entries` in one statement; on a data error, writes each half on its
    /// own, down to single items, which are then rejected. Returns what is known per
    /// item and the error that stopped the rest (those items are retried).
    fileprivate func write(_ entries: ArraySlice<IngestBatcher<WorkItem>.Entry>) async -> WriteResult {
        statistics.statements += 1
        let started = clock.now
        do {
            let results = try await IngestBatchStatement.run(
                entries.map(\.element), gatewayID: gatewayID, client: client, logger: logger)
            commitLatency.record(duration: started.duration(to: clock.now))
            statistics.committedBatches += 1
            committed()
            reachable.store(true, ordering: .relaxed)
            var byID: [IngestBatcher<WorkItem>.ID: ItemResult] = [:]
            for (entry, result) in zip(entries, results) {
                switch result {
                case .committed(let outcome): byID[entry.id] = .committed(outcome)
                case .unresolved: byID[entry.id] = .unresolved
                }
            }
            return (byID, nil)
        } catch let error where Self.isDataError(error) {
            statistics.failedAttempts += 1
            failedBatches.increment()
            guard entries.count > 1 else {
                guard let entry = entries.first else { return ([:], nil) }
                let reason = Self.serverMessage(error)
                logger.error(
                    "the database refused a message",
                    metadata: [
                        "error": "\(reason)", "station_id": "\(entry.element.stationID)",
                        "kind": "\(entry.element.kind)", "action": "\(entry.element.action?.rawValue ?? "")",
                    ])
                return ([entry.id: .rejected(.rejected(reason))], nil)
            }
            let middle = entries.startIndex + entries.count / 2
            var (results, failure) = await write(entries[..<middle])
            guard failure == nil else { return (results, failure) }
            let (more, laterFailure) = await write(entries[middle...])
            results.merge(more) { first, _ in first }
            return (results, laterFailure)
        } catch {
            statistics.failedAttempts += 1
            failedBatches.increment()
            if isDatabaseReachable {
                logger.warning("ingest batch failed, retrying", metadata: ["error": "\(Self.describe(error))"])
            } else {
                logger.debug("ingest batch failed again", metadata: ["error": "\(Self.describe(error))"])
            }
            reachable.store(false, ordering: .relaxed)
            return ([:], error)
        }
    }

    /// Reachability check while idle and not known healthy. Bounded in time, and
    /// given up rather than waited for (``withAbandonment(after:throwing:_:)``): the
    /// pool can hold a lease for a minute while the server is unreachable.
    private func probe() async {
        let client = client
        let logger = logger
        let timeout = min(batcher.timeout, .seconds(5))
        let check = Task { () -> (any Error)? in
            do {
                try await withAbandonment(after: timeout, throwing: { IngestError.unavailable }) {
                    let rows = try await client.query("SELECT 1", logger: logger)
                    for try await _ in rows {}
                }
                return nil
            } catch {
                return error
            }
        }
        probeTask = check
        let failure = await withTaskCancellationHandler {
            await check.value
        } onCancel: {
            check.cancel()
        }
        probeTask = nil
        if let failure {
            logger.debug("database probe failed", metadata: ["error": "\(Self.describe(failure))"])
            reachable.store(false, ordering: .relaxed)
        } else {
            if !isDatabaseReachable { logger.info("database reachable") }
            reachable.store(true, ordering: .relaxed)
        }
        batcher.finishProbe(failed: failure != nil, now: clock.now)
    }

    /// Errors caused by the data of some item, which retrying cannot fix: data
    /// exceptions (22), integrity violations (23), program limits (54).
    private static func isDataError(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server,
            let state = error.serverInfo?[.sqlState]
        else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23") || state.hasPrefix("54")
    }

    private static func serverMessage(_ error: any Error) -> String {
        guard let error = error as? PSQLError, let info = error.serverInfo else { return describe(error) }
        return "\(info[.sqlState] ?? "") \(info[.message] ?? "")"
    }

    /// One line for the log: PSQLError's own description hides everything and its
    /// reflection includes the whole statement.
    private static func describe(_ error: any Error) -> String {
        guard let error = error as? PSQLError else { return String(describing: error) }
        guard let info = error.serverInfo else { return "\(error.code)" }
        return "\(error.code) \(info[.sqlState] ?? "") \(info[.message] ?? "")"
    }
}

/// The write of the batch in flight, in a task of its own, which the writer can
/// stop waiting for: when all its items have expired, or the writer is cancelled.
/// A write given up is cancelled and ends, or never does, on its own; its items
/// were answered as failed, and if its rows commit after all, a resent message is
/// a duplicate with the same answer (the receipts) or a row written again.
private final class InFlightWrite: Sendable {
    private let outcome = FirstOutcome<IngestWriter.WriteResult>()
    private let task: Task<Void, Never>

    init(writing entries: ArraySlice<IngestBatcher<WorkItem>.Entry>, with writer: IngestWriter) {
        task = outcome.finish(withResultOf: { await writer.write(entries) })
    }

    /// What is known per item, and the error that stopped the rest (``abandon(because:)``'s
    /// when given up: then nothing is known and every item is retried or has expired).
    func result() async -> IngestWriter.WriteResult {
        do {
            return try await outcome.wait()
        } catch {
            return ([:], error)
        }
    }

    func abandon(because error: any Error) {
        outcome.finish(with: .failure(error))
        task.cancel()
    }
}
