import Foundation
import NIOCore
import Testing

@testable import Simulator

/// The load schedule is open loop: intended send times depend only on the rate,
/// never on how fast answers come back.
@Suite struct OpenLoopScheduleTests {
    @Test func turnsAreDueAtStartPlusKOverRateWhateverTheCallerDid() {
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        var schedule = OpenLoopSchedule(start: start, rate: 1000, end: start + .seconds(1))
        #expect(schedule.nextDue(now: start - .nanoseconds(1)) == nil)
        // A caller that was late by 10 ms gets all eleven overdue turns, each with its own time.
        var due: [NIODeadline] = []
        while let next = schedule.nextDue(now: start + .milliseconds(10)) { due.append(next) }
        #expect(due.count == 11)
        #expect(due.first == start)
        #expect(due.last == start + .milliseconds(10))
        #expect(!schedule.isFinished(now: start + .milliseconds(10)))
    }

    @Test func theScheduleEndsAtItsEnd() {
        let start = NIODeadline.uptimeNanoseconds(0)
        var schedule = OpenLoopSchedule(start: start, rate: 100, end: start + .milliseconds(50))
        var count = 0
        while schedule.nextDue(now: start + .seconds(10)) != nil { count += 1 }
        #expect(count == 5)
        #expect(schedule.isFinished(now: start + .seconds(10)))
    }

    @Test func theJournalRoundTripsThroughItsFile() throws {
        var journal = AckJournal()
        journal.unanswered = 2
        journal.starts = [
            .init(
                identity: "SIM-1", connectorId: 1, transactionId: 7, idTag: "TAG", meterStart: 100,
                timestamp: Date(timeIntervalSince1970: 1_700_000_000.123))
        ]
        journal.stops = [.init(identity: "SIM-1", transactionId: 7, meterStop: 400)]
        journal.samples = [.init(identity: "SIM-1", transactionId: 7): 30]
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("journal-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try journal.write(to: url)
        let read = try AckJournal.read(from: url)
        #expect(read.starts == journal.starts)
        #expect(read.stops == journal.stops)
        #expect(read.samples == journal.samples)
        #expect(read.unanswered == 2)
        #expect(abs(read.startedAt.timeIntervalSince(journal.startedAt)) < 0.001)
    }
}
