import Foundation
import Synchronization

/// A small, bounded, concurrency-safe cache whose entries live for a fixed time.
///
/// - An entry is served while `storedAt <= now < storedAt + ttl` on the injected
///   clock; a clock that steps back makes entries stale rather than immortal.
/// - Concurrent misses for one key share a single load: a burst of lookups of a
///   key costs one query.
/// - It never holds more than `capacity` entries: when full it drops the expired
///   ones, then the oldest quarter; when every entry is a load still in flight, the
///   new load runs without being cached.
/// - A failed load is not cached; the next lookup tries again.
/// - A `ttl` of zero or less disables caching: every lookup loads.
final class ExpiringCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    let ttl: TimeInterval
    let capacity: Int
    private let now: @Sendable () -> Date
    private let state = Mutex(State())

    private enum Entry {
        case loading(Task<Value, any Error>, loadID: UInt64)
        case ready(Value, storedAt: Date)
    }

    /// What a lookup does once it leaves the lock.
    private enum Lookup {
        case hit(Value)
        case wait(Task<Value, any Error>)
        case uncached
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var nextLoadID: UInt64 = 0
    }

    init(ttl: Duration, capacity: Int, now: @escaping @Sendable () -> Date = { Date() }) {
        precondition(capacity > 0, "an expiring cache needs room for one entry")
        let (seconds, attoseconds) = ttl.components
        self.ttl = Double(seconds) + Double(attoseconds) * 1e-18
        self.capacity = capacity
        self.now = now
    }

    /// The number of entries held, loads in flight included.
    var count: Int { state.withLock { $0.entries.count } }

    /// The cached value of `key`, or the result of `load`, which is then cached.
    func value(
        for key: Key, load: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        guard ttl > 0 else { return try await load() }
        let startedAt = now()
        let step: Lookup = state.withLock { state in
            switch state.entries[key] {
            case .ready(let value, let storedAt) where isFresh(storedAt, at: startedAt):
                return .hit(value)
            case .loading(let task, _):
                return .wait(task)
            case .ready, nil:
                state.entries[key] = nil
                guard makeRoom(in: &state, at: startedAt) else { return .uncached }
                let loadID = state.nextLoadID
                state.nextLoadID &+= 1
                let task = Task {
                    do {
                        let value = try await load()
                        self.finish(key, loadID: loadID, with: .success(value), storedAt: startedAt)
                        return value
                    } catch {
                        self.finish(key, loadID: loadID, with: .failure(error), storedAt: startedAt)
                        throw error
                    }
                }
                state.entries[key] = .loading(task, loadID: loadID)
                return .wait(task)
            }
        }
        switch step {
        case .hit(let value): return value
        case .wait(let task): return try await task.value
        case .uncached: return try await load()
        }
    }

    /// Forgets `key` (a load in flight still completes for its callers).
    func removeValue(for key: Key) {
        state.withLock { _ = $0.entries.removeValue(forKey: key) }
    }

    private func finish(
        _ key: Key, loadID: UInt64, with result: Result<Value, any Error>, storedAt: Date
    ) {
        state.withLock { state in
            // Only the load that is still the key's entry may settle it.
            guard case .loading(_, let current) = state.entries[key], current == loadID else { return }
            switch result {
            case .success(let value): state.entries[key] = .ready(value, storedAt: storedAt)
            case .failure: state.entries[key] = nil
            }
        }
    }

    private func isFresh(_ storedAt: Date, at instant: Date) -> Bool {
        storedAt <= instant && instant.timeIntervalSince(storedAt) < ttl
    }

    /// Makes room for one more entry; false when every entry is a load in flight.
    private func makeRoom(in state: inout State, at instant: Date) -> Bool {
        guard state.entries.count >= capacity else { return true }
        state.entries = state.entries.filter { _, entry in
            if case .ready(_, let storedAt) = entry { return isFresh(storedAt, at: instant) }
            return true
        }
        guard state.entries.count >= capacity else { return true }
        // Still full of fresh entries: drop the oldest quarter at once, so that a
        // stream of new keys pays for this sort once per capacity / 4 insertions.
        let ready = state.entries.compactMap { key, entry -> (key: Key, storedAt: Date)? in
            if case .ready(_, let storedAt) = entry { return (key, storedAt) }
            return nil
        }
        guard !ready.isEmpty else { return false }
        let evicted = ready.sorted { $0.storedAt < $1.storedAt }.prefix(max(1, capacity / 4))
        for entry in evicted { state.entries[entry.key] = nil }
        return true
    }
}
