import Logging
import PostgresNIO
import ServiceLifecycle

/// Runs each periodic job on its own interval until shutdown. A failed run is logged
/// and the job tries again at its next interval.
struct MaintenanceService: Service {
    let client: PostgresClient
    let jobs: [MaintenanceJob]
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                for job in jobs {
                    group.addTask { await loop(job) }
                }
            }
        }
    }

    private func loop(_ job: MaintenanceJob) async {
        var logger = logger
        logger[metadataKey: "job"] = "\(job.name)"
        while !Task.isCancelled {
            do {
                try await job.runOnce(client: client, logger: logger)
            } catch {
                guard !Task.isCancelled else { return }
                logger.warning("maintenance job failed: \(String(reflecting: error))")
            }
            try? await Task.sleep(for: job.interval)
        }
    }
}
