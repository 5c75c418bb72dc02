import CoreMetrics
import Synchronization

/// The counters of one metric, one per combination of label values, made once and
/// reused: creating a `Counter` asks the metrics backend to look it up under a lock
/// and allocates, which the per-message paths should not pay every time.
public final class LabeledCounters: Sendable {
    private let label: String
    private let dimensionNames: [String]
    /// The backend current when the metric was declared: counters made later, on
    /// other tasks, report to the same one (a test binds its own with
    /// `withMetricsFactory`).
    private let factory: any MetricsFactory
    private let counters = Mutex<[[String]: Counter]>([:])

    public init(label: String, dimensions: [String]) {
        self.label = label
        self.dimensionNames = dimensions
        self.factory = MetricsSystem.factory
    }

    /// The counter for `values`, given in the order of the dimension names.
    public func callAsFunction(_ values: String...) -> Counter {
        counters.withLock { counters in
            if let counter = counters[values] { return counter }
            let counter = Counter(label: label, dimensions: Array(zip(dimensionNames, values)), factory: factory)
            counters[values] = counter
            return counter
        }
    }
}
