import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared

/// Why an id tag is being authorized: only a StartTransaction can be refused for a
/// transaction the tag already has.
enum AuthorizationPurpose: Sendable, Hashable {
    /// Authorize.req: the tag's own status. Never ConcurrentTx, which OCPP 1.6 (§7.2)
    /// reserves for StartTransaction: a tag with an open transaction is Accepted (or
    /// Blocked, Expired, Invalid as it is).
    case authorize
    /// StartTransaction.req on this connector of the asking station: ConcurrentTx when
    /// the tag has a transaction open elsewhere, read from the database at that moment.
    /// An open transaction on that very connector does not count: a connector carries
    /// one transaction at a time, so it is this start retried (its start row is already
    /// written) or an earlier one whose stop was lost.
    case startTransaction(connectorID: Int)
    /// StopTransaction.req: the tag's own transaction is ending, so ConcurrentTx never
    /// applies; the answer only says whether the tag is valid.
    case stopTransaction
}

/// Says what the central system thinks of an id tag (`IdTagInfo`).
protocol IdTagAuthorizing: Sendable {
    func authorize(
        _ idTag: String, station: StationContext, purpose: AuthorizationPurpose
    ) async throws
        -> IdTagInfo
}

extension IdTagAuthorizing {
    /// The answer to Authorize.req.
    func authorize(_ idTag: String, station: StationContext) async throws -> IdTagInfo {
        try await authorize(idTag, station: station, purpose: .authorize)
    }
}

/// Authorizes id tags by ``GatewaySettings/AuthorizationPolicy``.
///
/// - `open`: every tag is Accepted, without a query.
/// - `strict`: the tag is looked up in the ``IdTagDirectory`` (`ocpp.id_tags`),
///   case-insensitively (an IdToken is a CiString; ``IdTagKey``): unknown → Invalid;
///   a stored Blocked, Expired or Invalid is answered as stored; Accepted with an
///   `expiry_date` not in the future → Expired. The stored `expiryDate` and
///   `parentIdTag` (in their stored case) are always included.
///   - Authorize and StopTransaction answer the tag's own status: never ConcurrentTx
///     (a stored ConcurrentTx counts as Accepted there, expiry included).
///   - StartTransaction: an Accepted tag with a transaction open elsewhere (see
///     ``PostgresIdTagDirectory`` for which count, ``AuthorizationPurpose`` for which
///     are ignored) → ConcurrentTx, as is a stored ConcurrentTx.
///
/// Authorize and StopTransaction lookups, unknown tags included, are cached for
/// `cacheTTL` under the folded tag (a burst of Authorize for a tag costs one query;
/// "abc123" and "ABC123" share the entry), so a change to `ocpp.id_tags` is seen at
/// most `cacheTTL` late. The expiry date is compared with the clock at each answer,
/// not when cached.
///
/// ## StartTransaction reads the database
/// A StartTransaction neither reads nor fills the cache: the tag and its open
/// transactions are read in one statement at that moment, so a cached Accepted
/// never hides a transaction started since (one query per start, a rare message).
///
/// What that guarantees, and what it cannot: the gateway acknowledges a
/// StartTransaction only after its batch statement has committed the start's
/// `ocpp.transaction_starts` row (the worker writes `ocpp.transactions` later; the
/// check does not wait for it). So a start on any gateway that was answered before
/// this check began is seen, and one tag is not started on a second charger after
/// the first was told Accepted, which is how a person moves between chargers. Two
/// starts of one tag whose checks both run before either's row is committed (on two
/// gateways, or on one: the window from the check to the batch commit, milliseconds
/// normally, up to the ingest timeout under load) both see no open transaction and
/// are both Accepted. The check and the insert are two statements on two connections,
/// so no read or lock here can close that window: a lock taken by this query is
/// released before the batch statement runs, and a read cannot see a row another
/// gateway has not committed yet. Closing it takes the decision into the batch
/// statement (`Sources/Gateway/Ingest/`), e.g. a claim keyed by the folded tag
/// inserted there with `ON CONFLICT`, which waits for and sees another gateway's
/// commit, turning the answer into ConcurrentTx. Until then both transactions are
/// recorded as usual, and any later start of the tag is refused while either is open.
final class IdTagAuthorizer: IdTagAuthorizing {
    /// The most id tags cached at once.
    static let defaultCacheCapacity = 10_000

    let policy: GatewaySettings.AuthorizationPolicy
    private let directory: any IdTagDirectory
    private let cache: ExpiringCache<String, IdTagRecord?>
    private let now: @Sendable () -> Date

    /// - Parameters:
    ///   - now: the clock for expiry dates and the cache; tests inject their own.
    init(
        policy: GatewaySettings.AuthorizationPolicy, directory: any IdTagDirectory, cacheTTL: Duration,
        cacheCapacity: Int = IdTagAuthorizer.defaultCacheCapacity,
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.policy = policy
        self.directory = directory
        self.cache = ExpiringCache(ttl: cacheTTL, capacity: cacheCapacity, now: now)
        self.now = now
    }

    /// The production authorizer: the settings' policy and TTL on the database.
    convenience init(settings: GatewaySettings, client: PostgresClient, logger: Logger) {
        self.init(
            policy: settings.authorizationPolicy, directory: PostgresIdTagDirectory(client: client, logger: logger),
            cacheTTL: settings.idTagCacheTTL)
    }

    func authorize(
        _ idTag: String, station: StationContext, purpose: AuthorizationPurpose
    ) async throws
        -> IdTagInfo
    {
        switch policy {
        case .open:
            return IdTagInfo(status: .accepted)
        case .strict:
            let record: IdTagRecord?
            switch purpose {
            case .startTransaction:
                // Never cached: see "StartTransaction reads the database".
                record = try await directory.record(for: idTag, openTransactions: true)
            case .authorize, .stopTransaction:
                let directory = self.directory
                record = try await cache.value(for: IdTagKey.folded(idTag)) {
                    try await directory.record(for: idTag, openTransactions: false)
                }
            }
            return Self.idTagInfo(for: record, purpose: purpose, station: station, now: now())
        }
    }

    /// Forgets the cached lookup of `idTag`, in whatever case.
    func invalidate(_ idTag: String) {
        cache.removeValue(for: IdTagKey.folded(idTag))
    }

    /// The strict policy's answer for a looked-up tag (`nil`: unknown).
    static func idTagInfo(
        for record: IdTagRecord?, purpose: AuthorizationPurpose, station: StationContext, now: Date
    ) -> IdTagInfo {
        guard let record else { return IdTagInfo(status: .invalid) }
        var status = record.status
        // ConcurrentTx is an answer to StartTransaction only (OCPP 1.6 §7.2); stored,
        // it says the tag is busy, not that it is invalid.
        if status == .concurrentTx, !purpose.isStart {
            status = .accepted
        }
        if status == .accepted, let expiryDate = record.expiryDate, expiryDate <= now {
            status = .expired
        }
        if status == .accepted, case .startTransaction(let connectorID) = purpose,
            record.openTransactions.contains(where: { !$0.isOn(station, connectorID: connectorID) })
        {
            status = .concurrentTx
        }
        return IdTagInfo(status: status, expiryDate: record.expiryDate, parentIdTag: record.parentIdTag)
    }
}

extension AuthorizationPurpose {
    fileprivate var isStart: Bool {
        if case .startTransaction = self { true } else { false }
    }
}

extension OpenTransaction {
    /// Whether this is a transaction of that connector of that station: the start
    /// being retried, or one whose stop was lost.
    fileprivate func isOn(_ station: StationContext, connectorID: Int) -> Bool {
        stationID == station.stationID && self.connectorID == connectorID
    }
}
