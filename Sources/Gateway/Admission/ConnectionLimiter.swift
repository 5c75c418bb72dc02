import Synchronization

/// Counts open TCP connections, in total and per source address, and refuses new
/// ones beyond the limits, so that one client (or one misbehaving network) cannot
/// take the sockets, memory and file descriptors that other stations need.
///
/// Counted from accept to close, whatever the connection turns out to be (a station,
/// a health check, a half-open handshake), because each costs the same until then.
final class ConnectionLimiter: Sendable {
    enum Refusal: String, Sendable {
        case total
        case perAddress = "per_address"
    }

    /// 0 means no limit.
    let maxTotal: Int
    let maxPerAddress: Int
    private let state = Mutex<(total: Int, perAddress: [String: Int])>((0, [:]))

    init(maxTotal: Int, maxPerAddress: Int) {
        self.maxTotal = maxTotal
        self.maxPerAddress = maxPerAddress
    }

    /// Counts a new connection from `address`, or says which limit refuses it.
    func acquire(_ address: String) -> Refusal? {
        state.withLock { state in
            if maxTotal > 0, state.total >= maxTotal { return .total }
            let fromAddress = state.perAddress[address, default: 0]
            if maxPerAddress > 0, fromAddress >= maxPerAddress { return .perAddress }
            state.total += 1
            state.perAddress[address] = fromAddress + 1
            return nil
        }
    }

    /// Forgets a connection that `acquire` counted.
    func release(_ address: String) {
        state.withLock { state in
            state.total -= 1
            let remaining = state.perAddress[address, default: 1] - 1
            state.perAddress[address] = remaining > 0 ? remaining : nil
        }
    }

    var openConnections: Int { state.withLock { $0.total } }
}
