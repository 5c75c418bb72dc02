/// Waits for a state that other processes reach in their own time (the worker
/// applying rows, the gateway noticing an outage): polls `condition` until it holds,
/// and fails after `timeout`. A bound against hanging, not a performance assertion:
/// the condition normally holds within milliseconds.
func eventually(
    _ what: String, timeout: Duration = .seconds(30), every interval: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        if try await condition() { return }
        guard ContinuousClock.now < deadline else { throw EventuallyError.timedOut(what) }
        try await Task.sleep(for: interval)
    }
}

enum EventuallyError: Error, CustomStringConvertible {
    case timedOut(String)

    var description: String {
        switch self {
        case .timedOut(let what): "gave up waiting: \(what)"
        }
    }
}
