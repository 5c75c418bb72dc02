import Crypto
import Foundation
import Logging
import OCPP
import PostgresNIO
import Shared
import SwiftASN1
import X509

/// SignCertificate (security profile 3): checks the station's CSR again with the
/// gateway's rules (``CertificateRequestCheck``, deterministic: same settings, same
/// verdict), signs it with the operator's CA, records the certificate in
/// `issued_certificates` and queues CertificateSigned with the chain, all in the
/// batch's transaction. Every request is also kept in `station_events`, with what
/// became of it in `detail`: the certificate issued, or why nothing was signed
/// ("SignCertificate rejected: CN ... is not the station identity ...").
///
/// Nothing is signed for a request the gateway answered Rejected: the station was
/// told no. When the worker's verdict differs from the gateway's (their
/// OCPP_CSR_ORGANIZATION differ), the event says so.
///
/// Once per work row: rows that already have their event are skipped before any
/// signing, and the event, the certificate and the command are written by one
/// statement gated on the event's insert, so a replayed batch issues nothing twice.
struct SignCertificateHandler: InboxHandler {
    let actions: Set<OCPPAction> = [.signCertificate]
    /// nil: this worker signs nothing (OCPP_CSR_ORGANIZATION unset).
    let signing: CertificateSigning?

    /// The batch's SignCertificate rows without their event yet.
    var pendingSQL: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter))
        SELECT b.id, s.identity, coalesce(b.payload->>'csr', ''), b.response->>'status'
        FROM batch AS b JOIN ocpp.stations AS s ON s.id = b.station_id
        WHERE NOT EXISTS (SELECT 1 FROM ocpp.station_events AS e WHERE e.inbox_id = b.id)
        ORDER BY b.id
        """
    }

    /// The event alone ($4: detail) of the row in $1.
    var eventSQL: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter))
        INSERT INTO ocpp.station_events (station_id, inbox_id, action, payload, response, station_time, received_at,
                                         detail)
        SELECT b.station_id, b.id, b.action, b.payload, b.response, b.station_time, b.received_at, $4
        FROM batch AS b
        ON CONFLICT (inbox_id) DO NOTHING
        """
    }

    /// The event ($4: detail), CertificateSigned ($5: payload) and the certificate
    /// ($6 serial, $7 subject, $8 not before, $9 not after, $10 fingerprint, $11 PEM)
    /// of the row in $1; the command and the certificate only when the event is new.
    /// A newer certificate replaces a CertificateSigned still waiting for the station.
    var issueSQL: String {
        """
        WITH \(ClaimedBatch.rowsCTE(where: actionFilter)),
        event AS (
            INSERT INTO ocpp.station_events (station_id, inbox_id, action, payload, response, station_time,
                                             received_at, detail)
            SELECT b.station_id, b.id, b.action, b.payload, b.response, b.station_time, b.received_at, $4
            FROM batch AS b
            ON CONFLICT (inbox_id) DO NOTHING
            RETURNING station_id, inbox_id
        ),
        queued AS (
            SELECT e.station_id, e.inbox_id,
                   ocpp.enqueue_call(s.identity, 'CertificateSigned', $5::jsonb, 'CertificateSigned') AS message_id
            FROM event AS e JOIN ocpp.stations AS s ON s.id = e.station_id
        )
        INSERT INTO ocpp.issued_certificates (station_id, inbox_id, serial_number, subject, not_before, not_after,
                                              sha256_fingerprint, pem, message_id)
        SELECT q.station_id, q.inbox_id, $6, $7, $8, $9, $10, $11, q.message_id
        FROM queued AS q
        ON CONFLICT (inbox_id) DO NOTHING
        """
    }

    func apply(_ batch: ClaimedBatch, on connection: PostgresConnection, logger: Logger) async throws {
        var pending: [(id: Int64, identity: String, csr: String, answered: String?)] = []
        let rows = try await connection.query(batch.query(pendingSQL), logger: logger)
        for try await row in rows.decode((Int64, String, String, String?).self) {
            pending.append(row)
        }
        for row in pending {
            let single = ClaimedBatch(
                ids: [row.id], earliest: batch.earliest, latest: batch.latest, countsByAction: [:])
            let outcome = decide(csr: row.csr, identity: row.identity, gatewayAccepted: row.answered == "Accepted")
            switch outcome {
            case .notSigned(let detail):
                logger.notice("\(detail)", metadata: ["station": "\(row.identity)", "inbox_id": "\(row.id)"])
                try await execute(eventSQL, single, detail: detail, on: connection, logger: logger)
            case .sign(let request, let authority):
                try await issue(
                    request, by: authority, row: single, identity: row.identity, on: connection, logger: logger)
            }
        }
    }

    enum Outcome {
        case notSigned(String)
        case sign(CertificateSigningRequest, CertificateAuthority)
    }

    /// What to do with a request the gateway answered Accepted or not.
    func decide(csr: String, identity: String, gatewayAccepted: Bool) -> Outcome {
        let mismatch = " (do gateways and workers share OCPP_CSR_ORGANIZATION?)"
        guard let signing else {
            return .notSigned(
                gatewayAccepted
                    ? "SignCertificate not signed: the gateway answered Accepted but this worker has no CA (OCPP_CSR_ORGANIZATION, OCPP_CA_CERTIFICATE, OCPP_CA_KEY)"
                    : "SignCertificate rejected: certificate signing is not configured (OCPP_CSR_ORGANIZATION)")
        }
        switch signing.check.check(csr, identity: identity) {
        case .failure(let reason):
            return .notSigned(
                "SignCertificate rejected: \(reason)"
                    + (gatewayAccepted ? "; the gateway had answered Accepted" + mismatch : ""))
        case .success(let request):
            guard gatewayAccepted else {
                return .notSigned(
                    "SignCertificate not signed: the gateway answered Rejected, though the request passes the worker's checks"
                        + mismatch)
            }
            return .sign(request, signing.authority)
        }
    }

    private func issue(
        _ request: CertificateSigningRequest, by authority: CertificateAuthority, row: ClaimedBatch,
        identity: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        let certificate = try authority.issue(for: request)
        let issued = try IssuedCertificate(certificate)
        let payload: String
        do {
            let command = try OutboundCommand(
                CertificateSignedRequest(certificateChain: try authority.chainPEM(for: certificate)))
            var writer = JSONWriter()
            writer.value(.object(command.payload))
            payload = writer.string
        } catch {
            let detail = "SignCertificate not signed: the certificate chain does not fit CertificateSigned: \(error)"
            logger.error("\(detail)", metadata: ["station": "\(identity)"])
            try await execute(eventSQL, row, detail: detail, on: connection, logger: logger)
            return
        }
        let detail = "certificate issued: serial \(issued.serialNumber), valid until \(RFC3339.format(issued.notAfter))"
        var bindings = Self.bindings(row, detail: detail)
        bindings.append(payload)
        bindings.append(issued.serialNumber)
        bindings.append(issued.subject)
        bindings.append(issued.notBefore)
        bindings.append(issued.notAfter)
        bindings.append(issued.fingerprint)
        bindings.append(issued.pem)
        // The station's queue may be full (OCPP_MAX_PENDING_COMMANDS): then nothing is
        // issued and the event says why, rather than the batch failing for ever.
        try await connection.query("SAVEPOINT sign_certificate", logger: logger)
        do {
            _ = try await connection.query(PostgresQuery(unsafeSQL: issueSQL, binds: bindings), logger: logger)
                .collect()
            try await connection.query("RELEASE SAVEPOINT sign_certificate", logger: logger)
            logger.info(
                "station certificate issued",
                metadata: [
                    "station": "\(identity)", "serial": "\(issued.serialNumber)", "subject": "\(issued.subject)",
                ])
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "54000" {
            try await connection.query("ROLLBACK TO SAVEPOINT sign_certificate", logger: logger)
            let detail = "SignCertificate not signed: CertificateSigned could not be queued: \(error.serverMessage)"
            logger.error("\(detail)", metadata: ["station": "\(identity)"])
            try await execute(eventSQL, row, detail: detail, on: connection, logger: logger)
        }
    }

    private func execute(
        _ sql: String, _ row: ClaimedBatch, detail: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        _ = try await connection.query(
            PostgresQuery(unsafeSQL: sql, binds: Self.bindings(row, detail: detail)), logger: logger
        ).collect()
    }

    /// The row's bindings as ``ClaimedBatch/query(_:)`` makes them, then `detail` as $4.
    private static func bindings(_ row: ClaimedBatch, detail: String) -> PostgresBindings {
        var bindings = row.query("").binds
        bindings.append(detail)
        return bindings
    }
}

/// What `issued_certificates` keeps of a certificate.
struct IssuedCertificate: Sendable {
    var serialNumber: String
    var subject: String
    var notBefore: Date
    var notAfter: Date
    /// SHA-256 of the DER, lower-case hexadecimal.
    var fingerprint: String
    var pem: String

    init(_ certificate: Certificate) throws {
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        serialNumber = Self.hex(certificate.serialNumber.bytes)
        subject = certificate.subject.description
        notBefore = certificate.notValidBefore
        notAfter = certificate.notValidAfter
        fingerprint = Self.hex(SHA256.hash(data: serializer.serializedBytes))
        pem = try certificate.serializeAsPEM().pemString
    }

    static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
