import NIOCore
import OCPP
import Shared

/// How the stations of a run connect and behave.
struct StationFleetSettings: Sendable {
    /// Where stations connect: station `i` starts at `connectors[i % count]` and moves to
    /// the next one when a connection attempt fails (a gateway that went away).
    var connectors: [WebSocketConnector]
    var identityPrefix: String
    /// Every station's Basic-auth password, unless ``passwords`` has its own.
    var password: String?
    /// Passwords by identity (`ocpp-sim --credentials`, from `ocpp-worker provision`).
    var passwords: [String: String] = [:]
    var sourceAddresses: SourceAddresses?
    /// What the stations send on their scheduled turns (`ocpp-sim load --mix`).
    var mix = StationTraffic.Mix.charging
    /// A CALL unanswered this long is given up (OCPP has no fixed value; 30 s is common).
    var callTimeout = TimeAmount.seconds(30)
    /// After a connection ends (with jitter of up to as much again).
    var reconnectDelay = TimeAmount.seconds(1)
    /// After a connection attempt fails, unless the server's 503 gave a `Retry-After`.
    var connectRetryDelay = TimeAmount.seconds(1)
    /// Told of every command a station receives, on the station's event loop.
    var onCommand: (@Sendable (_ messageID: String, _ action: String, _ receivedAt: NIODeadline) -> Void)?

    func identity(of index: Int) -> String {
        "\(identityPrefix)\(index)"
    }

    func password(of identity: String) -> String? {
        passwords[identity] ?? password
    }
}

/// The stations of one event loop, and what they saw: the open-loop schedule is
/// driven here, counters and the latency histogram are kept here without locks,
/// and the run merges every loop's figures at the end. Confined to `eventLoop`.
final class LoadLoop {
    let eventLoop: any EventLoop
    let settings: StationFleetSettings
    private(set) var stations: [LoadStation] = []
    private(set) var readyCount = 0
    var statistics = LoadStatistics()
    var journal = AckJournal()
    private var schedule: OpenLoopSchedule?
    private var ticker: RepeatedTask?
    private var nextStation = 0
    private var stopping = false
    private var everReady: Set<Int> = []
    private var lastTimeoutCheck = NIODeadline.now()
    /// Since ``dropAll(at:)``: when the drop happened and which stations booted again.
    private var dropTime: NIODeadline?
    private var rebooted: Set<Int> = []
    /// Per station, the time from the drop to its BootNotification's Accepted.
    private(set) var rebootTimes = LatencyHistogram()

    init(eventLoop: any EventLoop, settings: StationFleetSettings) {
        self.eventLoop = eventLoop
        self.settings = settings
    }

    func addStation(index: Int, chargePoint: ChargePoint) -> LoadStation {
        let station = LoadStation(
            identity: settings.identity(of: index), index: index, loop: self, chargePoint: chargePoint)
        stations.append(station)
        return station
    }

    // MARK: Connections

    func connect(_ station: LoadStation) {
        let bound = NIOLoopBound(station, eventLoop: eventLoop)
        let loop = NIOLoopBound(self, eventLoop: eventLoop)
        settings.connectors[station.endpointIndex % settings.connectors.count].connect(
            identity: station.identity, password: settings.password(of: station.identity),
            localAddress: settings.sourceAddresses?.address(for: station.index), on: eventLoop
        ) { _ in bound.value }
        .whenFailure { error in loop.value.connectFailed(bound.value, error: error) }
    }

    private func connectFailed(_ station: LoadStation, error: any Error) {
        station.connectAttemptFailed()
        statistics.connectFailures += 1
        var delay = settings.connectRetryDelay
        if let refused = error as? UpgradeRefused, refused.status == 503 {
            // The gateway defers a storm: come back when it says (the jitter spreads the herd).
            statistics.upgradesDeferred += 1
            if let seconds = refused.retryAfter { delay = .seconds(Int64(seconds)) }
        } else {
            station.endpointIndex += 1
        }
        retry(station, after: delay)
    }

    /// Pending or Rejected: boot again after the interval the central system gave.
    func retryBoot(_ station: LoadStation, after delay: TimeAmount) {
        let bound = NIOLoopBound(station, eventLoop: eventLoop)
        eventLoop.scheduleTask(in: delay) { bound.value.resendBoot() }
    }

    func bootAccepted(_ station: LoadStation) {
        guard let dropTime, rebooted.insert(station.index).inserted else { return }
        rebootTimes.record(microseconds: (NIODeadline.now() - dropTime).nanoseconds / 1000)
    }

    func bootDeferred() { statistics.bootsDeferred += 1 }

    /// Stations booted again since ``dropAll(at:)``.
    var rebootedCount: Int { rebooted.count }

    /// Closes every station's connection at once without a closing handshake, as a
    /// gateway restart does; each reconnects after ``StationFleetSettings/reconnectDelay``.
    func dropAll(at time: NIODeadline) {
        dropTime = time
        rebooted = []
        rebootTimes = LatencyHistogram()
        for station in stations { station.drop() }
    }

    func stationReady(_ station: LoadStation) {
        readyCount += 1
        if !everReady.insert(station.index).inserted { statistics.reconnects += 1 }
    }

    func stationDisconnected(_ station: LoadStation) {
        guard !stopping else { return }
        if everReady.contains(station.index) {
            readyCount -= 1
            statistics.disconnects += 1
        }
        retry(station, after: settings.reconnectDelay)
    }

    private func retry(_ station: LoadStation, after delay: TimeAmount) {
        guard !stopping else { return }
        let bound = NIOLoopBound(station, eventLoop: eventLoop)
        // Spread the retries, so that a gateway restart is not met by a thundering herd.
        let jitter = TimeAmount.milliseconds(Int64.random(in: 0...max(1, delay.nanoseconds / 1_000_000)))
        eventLoop.scheduleTask(in: delay + jitter) {
            let station = bound.value
            if station.phase == .disconnected { station.startConnecting() }
        }
    }

    // MARK: Schedule

    /// Runs the open-loop schedule: `rate` messages per second from `start` for `duration`.
    func startSchedule(start: NIODeadline, rate: Double, duration: TimeAmount) {
        guard rate > 0, !stations.isEmpty else { return }
        schedule = OpenLoopSchedule(start: start, rate: rate, end: start + duration)
        let loop = NIOLoopBound(self, eventLoop: eventLoop)
        ticker = eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(1)) { _ in
            loop.value.tick()
        }
    }

    /// Gives every due turn to the next station in round robin: a station that cannot
    /// send at once queues the turn, and its latency still counts from the intended time.
    private func tick() {
        let now = NIODeadline.now()
        while let intended = schedule?.nextDue(now: now) {
            statistics.offered += 1
            stations[nextStation].turn(intended: intended)
            nextStation = (nextStation + 1) % stations.count
        }
        if schedule?.isFinished(now: now) ?? false { schedule = nil }
        if now - lastTimeoutCheck >= .milliseconds(100) {
            lastTimeoutCheck = now
            for station in stations { station.timeOutIfOverdue(now: now, timeout: settings.callTimeout) }
        }
    }

    /// Every station has nothing outstanding and nothing queued.
    var isDrained: Bool { schedule == nil && stations.allSatisfy(\.isIdle) }

    func stop() {
        stopping = true
        schedule = nil
        ticker?.cancel()
        ticker = nil
        for station in stations { station.close() }
    }

    // MARK: Figures

    func sent(_ kind: LoadStation.CallKind) {
        statistics.sent += 1
        statistics.byAction[kind.action, default: 0] += 1
    }

    func answered(_ call: LoadStation.OutstandingCall, errorCode: String?) {
        guard let intended = call.intended else { return }
        let latency = NIODeadline.now() - intended
        statistics.latency.record(microseconds: latency.nanoseconds / 1000)
        if let errorCode {
            statistics.callErrors[errorCode, default: 0] += 1
        } else {
            statistics.acknowledged += 1
        }
    }

    func invalidAnswer() { statistics.callErrors["(invalid CALLRESULT)", default: 0] += 1 }
    func lost(_ call: LoadStation.OutstandingCall) { statistics.lost += 1 }
    func timedOut(_ call: LoadStation.OutstandingCall) { statistics.timedOut += 1 }
    func skipped() { statistics.skipped += 1 }

    func commandReceived(messageID: String, action: String) {
        settings.onCommand?(messageID, action, .now())
    }
}

extension LoadStation.CallKind {
    var action: String {
        switch self {
        case .boot: "BootNotification"
        case .bootStatus, .status: "StatusNotification"
        case .heartbeat: "Heartbeat"
        case .start: "StartTransaction"
        case .meterValues: "MeterValues"
        case .stop: "StopTransaction"
        }
    }
}

/// Intended send times at a fixed rate, independent of how fast answers come back
/// (open loop): the k-th message is due at `start + k / rate` whatever happened before.
struct OpenLoopSchedule {
    let start: NIODeadline
    let rate: Double
    let end: NIODeadline
    private var sent = 0

    init(start: NIODeadline, rate: Double, end: NIODeadline) {
        self.start = start
        self.rate = rate
        self.end = end
    }

    private var nextIntended: NIODeadline {
        start + .nanoseconds(Int64((Double(sent) * 1e9 / rate).rounded()))
    }

    /// The next intended time if it has come (and is within the run).
    mutating func nextDue(now: NIODeadline) -> NIODeadline? {
        let next = nextIntended
        guard next <= now, next < end else { return nil }
        sent += 1
        return next
    }

    func isFinished(now: NIODeadline) -> Bool { nextIntended >= end }
}
