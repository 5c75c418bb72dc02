import Foundation
import Logging
import NIOSSL
import OCPP
import Shared
import Synchronization

/// The TLS listener's current context. New connections take whatever is current when
/// they are accepted; a connection keeps the context it started with, so replacing the
/// certificate never disturbs a station that is connected.
final class TLSContextStore: Sendable {
    private struct State {
        var files: TLSFiles
        var loaded: TLSContextFactory.Loaded
        /// The last failure, so that a bad or missing file is reported once, not at every check.
        var rejected: TLSFiles?
        var lastFailure: String?
        /// Whether an expired revocation list of the current files was reported.
        var reportedExpiredList = false
    }

    let settings: TLSSettings
    private let state: Mutex<State>

    /// Reads the files; a mistake in them stops the process.
    init(settings: TLSSettings) throws(ConfigurationError) {
        let files = try TLSFiles.read(settings)
        self.settings = settings
        self.state = Mutex(
            State(files: files, loaded: try TLSContextFactory.make(files), rejected: nil, lastFailure: nil))
    }

    var context: NIOSSLContext { state.withLock { $0.loaded.context } }
    var serialNumber: String { state.withLock { $0.loaded.serialNumber } }
    /// The revocation lists of `OCPP_TLS_CRL`, as last (re)loaded.
    var revocations: CertificateRevocations? { state.withLock { $0.loaded.revocations } }

    /// Warns about revocation lists past their nextUpdate: at start, at each reload, and
    /// once when a list expires while it is in use. An expired list is still applied (a
    /// stale list still names certificates that must not connect).
    func reportExpiredRevocationLists(logger: Logger, now: Date = Date()) {
        let expired = state.withLock { state -> [CertificateRevocationList] in
            let expired = state.loaded.revocations?.expired(at: now) ?? []
            if expired.isEmpty || state.reportedExpiredList { return [] }
            state.reportedExpiredList = true
            return expired
        }
        for list in expired {
            logger.warning(
                "\(TLSSettings.Setting.revocationList): the revocation list of \(list.issuer) expired at \(list.nextUpdate.map { "\($0)" } ?? "?"); still applied, publish a new one",
                metadata: ["tls.crl_issuer": "\(list.issuer)"])
        }
    }

    enum ReloadOutcome: Equatable, Sendable {
        case unchanged
        case replaced
        case rejected
    }

    /// Reads the files again and, if they changed and make a valid context, serves them
    /// from now on. A file that cannot be read or used is logged and the current context
    /// stays: a half-written or wrong certificate must not take the listener down.
    @discardableResult
    func reload(logger: Logger) -> ReloadOutcome {
        defer { reportExpiredRevocationLists(logger: logger) }
        let files: TLSFiles
        do {
            files = try TLSFiles.read(settings)
        } catch {
            // E.g. between the removal and the creation of a file being replaced.
            return reject(nil, error, logger: logger)
        }
        let unchanged = state.withLock { $0.files == files || $0.rejected == files }
        if unchanged { return .unchanged }
        do {
            let loaded = try TLSContextFactory.make(files)
            state.withLock { $0 = State(files: files, loaded: loaded, rejected: nil, lastFailure: nil) }
            logger.notice("TLS certificate reloaded", metadata: ["tls.serial": "\(loaded.serialNumber)"])
            return .replaced
        } catch {
            return reject(files, error, logger: logger)
        }
    }

    private func reject(_ files: TLSFiles?, _ error: ConfigurationError, logger: Logger) -> ReloadOutcome {
        let failure = "\(error.setting) \(error.reason)"
        let isNew = state.withLock { state in
            defer { (state.rejected, state.lastFailure) = (files, failure) }
            return state.lastFailure != failure
        }
        if isNew { logger.error("TLS certificate not reloaded, keeping the current one: \(failure)") }
        return .rejected
    }
}
