import Foundation
import Logging
import PostgresNIO
import Shared

/// Why an id tag is being authorized: the answer differs in whether a transaction
/// the tag already has counts against it.
enum AuthorizationPurpose: Sendable, Hashable {
    /// Authorize.req: any open transaction of the tag makes it ConcurrentTx.
    case authorize
    /// StartTransaction.req on this connector of the asking station. An open
    /// transaction on that very connector does not count: a connector carries one
    /// transaction at a time, so it is this start retried (its start row is already
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
/// - `strict`: the tag is looked up in the ``IdTagDirectory`` (`ocpp.id_tags`):
///   unknown → Invalid; a stored Blocked, Expired or Invalid (or ConcurrentTx) is
///   answered as stored; Accepted with an `expiry_date` not in the future → Expired;
///   Accepted with an open transaction (see ``PostgresIdTagDirectory`` for which
///   count, and ``AuthorizationPurpose`` for which are ignored) → ConcurrentTx. The
///   stored `expiryDate` and `parentIdTag` are always included.
///
/// Lookups, unknown tags included, are cached for `cacheTTL` (a burst of Authorize
/// for a tag costs one query), so a change to `ocpp.id_tags`, or a transaction
/// started or stopped through another gateway, is seen at most `cacheTTL` late. The
/// expiry date is compared with the clock at each answer, not when cached.
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
            let directory = self.directory
            let record = try await cache.value(for: idTag) { try await directory.record(for: idTag) }
            return Self.idTagInfo(for: record, purpose: purpose, station: station, now: now())
        }
    }

    /// Forgets the cached lookup of `idTag`.
    func invalidate(_ idTag: String) {
        cache.removeValue(for: idTag)
    }

    /// The strict policy's answer for a looked-up tag (`nil`: unknown).
    static func idTagInfo(
        for record: IdTagRecord?, purpose: AuthorizationPurpose, station: StationContext, now: Date
    ) -> IdTagInfo {
        guard let record else { return IdTagInfo(status: .invalid) }
        var status = record.status
        if status == .accepted, let expiryDate = record.expiryDate, expiryDate <= now {
            status = .expired
        }
        if status == .accepted,
            record.openTransactions.contains(where: { counts($0, for: purpose, station: station) })
        {
            status = .concurrentTx
        }
        return IdTagInfo(status: status, expiryDate: record.expiryDate, parentIdTag: record.parentIdTag)
    }

    private static func counts(
        _ transaction: OpenTransaction, for purpose: AuthorizationPurpose, station: StationContext
    ) -> Bool {
        switch purpose {
        case .authorize:
            true
        case .startTransaction(let connectorID):
            !(transaction.stationID == station.stationID && transaction.connectorID == connectorID)
        case .stopTransaction:
            false
        }
    }
}
