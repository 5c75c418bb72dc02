import Logging
import ServiceLifecycle
import UnixSignals

/// Replaces the TLS listener's certificate without a restart: on SIGHUP, and whenever a
/// periodic check finds the files changed (certificate renewal tools such as certbot or
/// cert-manager just rewrite them). Connected stations keep their sessions.
struct TLSCertificateReloader: Service {
    let store: TLSContextStore
    let logger: Logger

    func run() async {
        let interval = store.settings.reloadInterval
        store.reportExpiredRevocationLists(logger: logger)
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        if store.reload(logger: logger) == .unchanged {
                            logger.info("SIGHUP: TLS certificate files unchanged")
                        }
                    }
                }
                guard interval > .zero else { return }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        store.reload(logger: logger)
                    }
                }
            }
        }
    }
}
