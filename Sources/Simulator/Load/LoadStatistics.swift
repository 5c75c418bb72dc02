/// What one event loop's stations saw during the measured part of a load run;
/// merged over all loops for the report.
struct LoadStatistics: Sendable {
    /// Messages whose intended send time fell within the run.
    var offered = 0
    var sent = 0
    /// CALLRESULTs for scheduled messages.
    var acknowledged = 0
    var callErrors: [String: Int] = [:]
    /// Messages still unanswered when their station disconnected or the call timed out.
    var lost = 0
    var timedOut = 0
    /// Turns that found their station's backlog full (a station down for long).
    var skipped = 0
    var disconnects = 0
    var reconnects = 0
    var connectFailures = 0
    /// Upgrades answered 503 (the gateway's storm admission) among the failures.
    var upgradesDeferred = 0
    /// BootNotifications answered Pending or Rejected.
    var bootsDeferred = 0
    var byAction: [String: Int] = [:]
    var latency = LatencyHistogram()

    mutating func add(_ other: LoadStatistics) {
        offered += other.offered
        sent += other.sent
        acknowledged += other.acknowledged
        callErrors.merge(other.callErrors, uniquingKeysWith: +)
        lost += other.lost
        timedOut += other.timedOut
        skipped += other.skipped
        disconnects += other.disconnects
        reconnects += other.reconnects
        connectFailures += other.connectFailures
        upgradesDeferred += other.upgradesDeferred
        bootsDeferred += other.bootsDeferred
        byAction.merge(other.byAction, uniquingKeysWith: +)
        latency.add(other.latency)
    }
}
