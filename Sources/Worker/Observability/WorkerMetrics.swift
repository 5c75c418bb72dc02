import CoreMetrics
import Metrics
import OCPP
import Shared

/// The worker's metrics, through swift-metrics (Prometheus text at `/metrics`).
/// Labels are actions, never station identities.
struct WorkerMetrics: Sendable {
    let batchSize = Recorder(label: "ocpp_worker_batch_size")
    let applyLatency = Metrics.Timer(label: "ocpp_worker_apply_seconds")
    let refusedRows = Counter(label: "ocpp_worker_rows_refused_total")
    /// Age of the oldest unprocessed work row, seconds (0 when the inbox is drained).
    let lag = Gauge(label: "ocpp_worker_lag_seconds")
    let sessionsExpired = Counter(label: "ocpp_worker_sessions_expired_total")
    private let rowsApplied = LabeledCounters(label: "ocpp_worker_rows_applied_total", dimensions: ["action"])

    func applied(_ batch: ClaimedBatch, duration: Duration) {
        batchSize.record(batch.ids.count)
        applyLatency.record(duration: duration)
        for (action, count) in batch.countsByAction {
            rowsApplied(action.rawValue).increment(by: count)
        }
        for (event, count) in batch.countsByEvent {
            rowsApplied(event.rawValue).increment(by: count)
        }
    }

    func refused(_ count: Int) {
        if count > 0 { refusedRows.increment(by: count) }
    }
}
